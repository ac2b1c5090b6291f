"""CustomDataset: v2's middle format, classes, paths, proposals, resampling, memory layout."""

import gc
import json
import pickle
import types

import numpy as np
import pytest

from detbox.datasets import CocoDataset, CustomDataset
from detbox.datasets.annotation_store import DataInfos
from detbox.registry import DATASETS
from tests.datasets.dataset_fixtures import TINY_CATEGORIES, write_coco

INFOS = [
    dict(filename="a.jpg", width=100, height=50,
         ann=dict(bboxes=np.array([[1, 2, 3, 4]], np.float32), labels=np.array([2]),
                  bboxes_ignore=np.zeros((0, 4), np.float32))),
    dict(filename="b.jpg", width=40, height=60,
         ann=dict(bboxes=np.zeros((0, 4), np.float32), labels=np.zeros(0, np.int64),
                  bboxes_ignore=np.array([[0, 0, 5, 5]], np.float32))),
    dict(filename="tiny.jpg", width=20, height=300,
         ann=dict(bboxes=np.array([[0, 0, 1, 1]], np.float32), labels=np.array([0]))),
]


@pytest.fixture
def middle_pkl(tmp_path):
    path = tmp_path / "ann.pkl"
    path.write_bytes(pickle.dumps(INFOS))
    return path


def make(ann_file, **kwargs):
    kwargs.setdefault("classes", ("a", "b", "c"))
    return CustomDataset(ann_file=str(ann_file), pipeline=[], **kwargs)


def test_middle_format_pickle(middle_pkl):
    ds = make(middle_pkl, filter_empty_gt=False)
    assert len(ds) == 2  # tiny.jpg is 20 px wide
    assert ds.data_infos[0]["filename"] == "a.jpg"
    np.testing.assert_array_equal(ds.data_infos[0]["ann"]["bboxes"], [[1, 2, 3, 4]])
    ann = ds.get_ann_info(1)
    assert ann["bboxes"].shape == (0, 4) and ann["bboxes"].dtype == np.float32
    np.testing.assert_array_equal(ann["bboxes_ignore"], [[0, 0, 5, 5]])
    assert ds.get_cat_ids(0) == [2] and ds.get_cat_ids(1) == []
    np.testing.assert_array_equal(ds.flag, [1, 0])
    assert len(make(middle_pkl, test_mode=True)) == 3


def test_middle_format_json_lists_become_arrays(tmp_path):
    path = tmp_path / "ann.json"
    path.write_text(json.dumps([dict(filename="a.jpg", width=64, height=64,
                                     ann=dict(bboxes=[[1, 2, 3, 4]], labels=[1],
                                              bboxes_ignore=[]))]))
    ann = make(path).get_ann_info(0)
    assert ann["bboxes"].dtype == np.float32 and ann["bboxes"].shape == (1, 4)
    assert ann["labels"].dtype == np.int64
    assert ann["bboxes_ignore"].shape == (0, 4)


def test_middle_format_errors_name_the_file(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps([dict(filename="a.jpg", width=5)]))
    with pytest.raises(ValueError, match=r"bad.json: image 0 lacks key\(s\) \['height'\]"):
        make(path)
    path.write_text(json.dumps([dict(filename="a.jpg", width=64, height=64,
                                     ann=dict(bboxes=[[1, 2, 3]], labels=[1]))]))
    with pytest.raises(ValueError, match=r"bad.json.*'bboxes'.*shape \(n, 4\)"):
        make(path)
    path.with_suffix(".txt").write_text("x")
    with pytest.raises(ValueError, match="expected a .json or .pkl"):
        make(path.with_suffix(".txt"))


def test_data_root_joins_relative_paths(tmp_path, middle_pkl):
    ds = make("ann.pkl", data_root=str(tmp_path), img_prefix="images/", seg_prefix="segs/")
    assert ds.ann_file == str(middle_pkl)
    assert ds.img_prefix == str(tmp_path / "images") + "/"
    assert ds.seg_prefix == str(tmp_path / "segs") + "/"
    abs_ds = make(middle_pkl, data_root="/elsewhere", img_prefix="/abs/imgs")
    assert abs_ds.img_prefix == "/abs/imgs"


def test_get_classes_forms(tmp_path):
    assert CustomDataset.get_classes(None) is None
    assert CocoDataset.get_classes(None)[0] == "person"
    assert CustomDataset.get_classes(("pig",)) == ("pig",)
    assert CustomDataset.get_classes(["pig", "cow"]) == ["pig", "cow"]
    names = tmp_path / "classes.txt"
    names.write_text("pig\ncow\n\n")
    assert CustomDataset.get_classes(str(names)) == ["pig", "cow"]


def test_single_string_class_is_refused_with_the_fix():
    with pytest.raises(ValueError, match=r"classes='pig'.*classes=\('pig',\)"):
        CustomDataset.get_classes(("pig"))  # noqa: UP034 - the user's mistake, on purpose
    with pytest.raises(FileNotFoundError, match="no/such/classes.txt"):
        CustomDataset.get_classes("no/such/classes.txt")
    with pytest.raises(ValueError, match="must be strings"):
        CustomDataset.get_classes((1, 2))


def test_single_class_string_fails_at_build(middle_pkl):
    with pytest.raises(ValueError, match=r"\('pig',\)"):
        DATASETS.build(dict(type="CustomDataset", ann_file=str(middle_pkl), pipeline=[],
                            classes="pig"))


def test_proposals_follow_filtering(tmp_path, middle_pkl):
    props = tmp_path / "props.pkl"
    props.write_bytes(pickle.dumps([np.full((2, 5), i, np.float32) for i in range(3)]))
    seen = []
    ds = CustomDataset(ann_file=str(middle_pkl), pipeline=[lambda r: seen.append(r) or r],
                       proposal_file=str(props), classes=("a", "b", "c"))
    ds[1]
    np.testing.assert_array_equal(seen[-1]["proposals"], np.full((2, 5), 1, np.float32))
    props.write_bytes(pickle.dumps([np.zeros((1, 4))]))
    with pytest.raises(ValueError, match="props.pkl has 1 entries but .* has 3 images"):
        make(middle_pkl, proposal_file=str(props))


def test_pipeline_always_dropping_gives_up(middle_pkl):
    ds = CustomDataset(ann_file=str(middle_pkl), pipeline=[lambda r: None], classes=("a",))
    with pytest.raises(RuntimeError, match="dropped 1000 samples in a row"):
        ds[0]


def test_errors_keep_their_type_and_gain_context(middle_pkl):
    def missing(results):
        return results["no_such_key"]

    ds = CustomDataset(ann_file=str(middle_pkl), pipeline=[missing], classes=("a",),
                       img_prefix="imgs")
    with pytest.raises(KeyError, match=r"CustomDataset\[0\] \(imgs/a.jpg\): 'no_such_key'"):
        ds[0]
    with pytest.raises(IndexError):  # plain indexing errors stay plain (iteration relies on them)
        ds[10]


def test_data_infos_built_on_access_and_read_only(middle_pkl):
    ds = make(middle_pkl, test_mode=True)
    infos = ds.data_infos
    assert isinstance(infos, DataInfos) and len(infos) == 3
    first = infos[0]
    first["filename"] = "changed.jpg"
    first["ann"]["bboxes"][:] = -1
    assert infos[0]["filename"] == "a.jpg"  # a fresh dict each time
    np.testing.assert_array_equal(ds.get_ann_info(0)["bboxes"], [[1, 2, 3, 4]])
    with pytest.raises(TypeError):
        infos[0] = {}
    assert [i["filename"] for i in infos[1:]] == ["b.jpg", "tiny.jpg"]
    assert len([] + infos) == 3  # v2 code concatenates data_infos lists


def _reachable_objects(root) -> int:
    """Number of Python objects reachable from ``root`` (not entering classes or modules)."""
    seen, stack = set(), [root]
    skip = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType)
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if not isinstance(obj, skip):
            stack.extend(gc.get_referents(obj))
    return len(seen)


def _many_images(n):
    images = [dict(id=i + 1, file_name=f"img_{i:06d}.jpg", width=640, height=480)
              for i in range(n)]
    anns = [dict(id=j + 1, image_id=j // 3 + 1, category_id=TINY_CATEGORIES[j % 3]["id"],
                 bbox=[j % 50, 10, 30, 40], area=1200, iscrowd=0) for j in range(3 * n)]
    return images, anns


def test_memory_layout_is_numpy_buffers_not_python_objects(tmp_path):
    sizes = {}
    for n in (20, 400):
        images, anns = _many_images(n)
        path = write_coco(tmp_path / f"many{n}.json", images=images, annotations=anns)
        ds = CocoDataset(ann_file=str(path), pipeline=[], classes=("dog", "cat", "bird"))
        assert len(ds) == n
        for buf in ds._store.buffers():
            assert isinstance(buf, np.ndarray) and buf.dtype != object
        names = ds._store.scalars("filename")
        assert names.dtype.kind == "S" and len(names) == n  # one bytes array of file names
        assert ds._store.ragged("bboxes").data.shape == (3 * n, 4)
        sizes[n] = _reachable_objects(ds)
    # the Python objects a dataset holds do not grow with its number of images
    assert sizes[20] == sizes[400]


def test_v2_style_subclass_returning_a_list_of_dicts(tmp_path):
    class MyDataset(CustomDataset):
        CLASSES = ("thing",)

        def load_annotations(self, ann_file):
            return [dict(filename=f"{i}.jpg", width=64, height=48 if i else 16, note=f"n{i}",
                         ann=dict(bboxes=np.full((i, 4), i, np.float32),
                                  labels=np.zeros(i, np.int64)))
                    for i in range(3)]

    ds = MyDataset(ann_file="unused", pipeline=[])
    assert len(ds) == 2  # image 0 is 16 px high
    assert ds.data_infos[0]["note"] == "n1"
    np.testing.assert_array_equal(ds.get_ann_info(1)["bboxes"], np.full((2, 4), 2))
    assert ds.get_cat_ids(1) == [0, 0]
