"""CocoDataset on a tiny hand-made COCO file (see conftest.py for what each box tests)."""

import json
import logging

import numpy as np
import pytest

from detbox.datasets import CocoDataset
from tests.datasets.dataset_fixtures import POLY, TINY_ANNOTATIONS, TINY_IMAGES, write_coco

CLASSES = ("dog", "cat", "bird")


def make(ann_file, **kwargs):
    kwargs.setdefault("classes", CLASSES)
    return CocoDataset(ann_file=str(ann_file), pipeline=[], **kwargs)


def test_labels_follow_file_category_order_with_arbitrary_ids(tiny_coco):
    ds = make(tiny_coco, test_mode=True)
    assert ds.cat_ids == [17, 3, 42]
    assert ds.cat2label == {17: 0, 3: 1, 42: 2}
    assert list(ds.CLASSES) == list(CLASSES)


def test_classes_in_another_order_keep_file_order_and_warn(tiny_coco, caplog):
    with caplog.at_level(logging.WARNING):
        ds = make(tiny_coco, classes=("cat", "bird", "dog"), test_mode=True)
    assert ds.cat_ids == [17, 3, 42]  # v2: the file's order, not the classes' order
    assert "another order" in caplog.text


def test_classes_subset_keeps_only_those_categories(tiny_coco):
    ds = make(tiny_coco, classes=("bird", "dog"), test_mode=True)
    assert ds.cat_ids == [17, 42]
    ann = ds.get_ann_info(0)  # image a: the dog stays, both cat boxes (and the crowd cat) go
    np.testing.assert_array_equal(ann["bboxes"], [[10, 10, 30, 40]])
    np.testing.assert_array_equal(ann["labels"], [0])
    assert ann["bboxes_ignore"].shape == (0, 4)
    np.testing.assert_array_equal(ds.get_ann_info(1)["labels"], [1])  # b's bird is label 1


def test_missing_class_name_lists_the_file_categories(tiny_coco):
    with pytest.raises(ValueError, match=r"\['pig'\].*dog.*cat.*bird.*fish"):
        make(tiny_coco, classes=("dog", "pig"))


def test_parse_boxes_crowd_zero_area_out_of_image(tiny_coco):
    ds = make(tiny_coco, test_mode=True)
    ann = ds.get_ann_info(0)
    # kept: the dog and the cat that sticks out of the left border; dropped: zero width,
    # outside the image, ignore=1, w < 1; crowd -> ignore
    np.testing.assert_array_equal(ann["bboxes"], [[10, 10, 30, 40], [-5, 70, 15, 90]])
    np.testing.assert_array_equal(ann["labels"], [0, 1])
    np.testing.assert_array_equal(ann["bboxes_ignore"], [[0, 0, 50, 50]])
    assert ann["bboxes"].dtype == np.float32 and ann["labels"].dtype == np.int64
    assert ann["bboxes_ignore"].dtype == np.float32
    assert ann["masks"] == [POLY, None]
    assert ann["seg_map"] == "a.png"
    ann_b = ds.get_ann_info(1)
    np.testing.assert_array_equal(ann_b["bboxes"], [[1, 2, 4, 6], [50, 90, 70, 110]])
    np.testing.assert_array_equal(ann_b["labels"], [2, 1])
    empty = ds.get_ann_info(2)
    assert empty["bboxes"].shape == (0, 4) and empty["labels"].shape == (0,)


def test_get_cat_ids_gives_raw_ids_of_all_annotations(tiny_coco):
    ds = make(tiny_coco, test_mode=True)
    assert ds.get_cat_ids(0) == [17, 3, 42, 42, 17, 3, 3]
    assert ds.get_cat_ids(2) == []
    assert ds.get_cat2imgs() == {0: [0], 1: [0, 1, 3, 4], 2: [0, 1]}


def test_training_filters_empty_and_small_images(tiny_coco):
    ds = make(tiny_coco)
    # c: no annotation; f: only a class outside `classes`; d: 20 px wide.
    # e has only a crowd box of a class, which v2's filter keeps.
    assert list(ds.img_ids) == [5, 2, 11]
    assert [info["filename"] for info in ds.data_infos] == ["a.jpg", "b.jpg", "e.jpg"]
    np.testing.assert_array_equal(ds.flag, [1, 0, 1])
    assert ds.get_ann_info(2)["bboxes"].shape == (0, 4)
    assert len(ds.get_ann_info(2)["bboxes_ignore"]) == 1


def test_filter_empty_gt_false_and_test_mode(tiny_coco):
    assert list(make(tiny_coco, filter_empty_gt=False).img_ids) == [5, 2, 9, 11, 12]
    ds = make(tiny_coco, test_mode=True)
    assert list(ds.img_ids) == [img["id"] for img in TINY_IMAGES]
    assert len(ds) == 6


def test_data_infos_are_v2_dicts(tiny_coco):
    ds = make(tiny_coco, test_mode=True)
    assert ds.data_infos[0] == dict(id=5, file_name="a.jpg", width=100, height=80,
                                    filename="a.jpg")
    assert ds.data_infos[-1]["id"] == 12


def test_getitem_runs_pipeline_with_v2_keys(tiny_coco, tmp_path):
    seen = []
    ds = CocoDataset(ann_file=str(tiny_coco), pipeline=[lambda r: seen.append(r) or r],
                     classes=CLASSES, img_prefix=str(tmp_path))
    out = ds[1]
    assert set(out) == {"img_info", "ann_info", "img_prefix", "seg_prefix", "proposal_file",
                        "bbox_fields", "mask_fields", "seg_fields"}
    assert out["img_info"]["filename"] == "b.jpg" and out["img_prefix"] == str(tmp_path)
    np.testing.assert_array_equal(out["ann_info"]["labels"], [2, 1])
    test_ds = make(tiny_coco, test_mode=True)
    assert "ann_info" not in test_ds[0]


def test_dropped_sample_is_replaced_by_one_of_the_same_group(tiny_coco):
    drop_a = [lambda r: None if r["img_info"]["filename"] == "a.jpg" else r]
    ds = CocoDataset(ann_file=str(tiny_coco), pipeline=drop_a, classes=CLASSES)
    np.random.seed(0)
    for _ in range(5):  # a (wide) is dropped; e is the only other wide image
        assert ds[0]["img_info"]["filename"] == "e.jpg"


def test_pipeline_errors_name_index_and_file(tiny_coco, tmp_path):
    def boom(results):
        raise ValueError("corrupt image")

    ds = CocoDataset(ann_file=str(tiny_coco), pipeline=[boom], classes=CLASSES,
                     img_prefix=str(tmp_path) + "/")
    with pytest.raises(ValueError, match=r"CocoDataset\[1\] \(.*b\.jpg\): corrupt image"):
        ds[1]


def test_not_a_coco_file_is_named(tmp_path):
    bad = tmp_path / "mid.json"
    bad.write_text(json.dumps(dict(images=[])))
    with pytest.raises(ValueError, match="mid.json is not a COCO annotation file"):
        make(bad)
    bad.write_text(json.dumps([dict(filename="a.jpg", width=1, height=1)]))
    with pytest.raises(ValueError, match="mid.json is not a COCO"):
        make(bad)
    with pytest.raises(FileNotFoundError, match="nothere.json"):
        make(tmp_path / "nothere.json")


def test_no_image_left_says_which_filter(tmp_path):
    path = write_coco(tmp_path / "empty.json", images=[TINY_IMAGES[2]], annotations=[])
    with pytest.raises(ValueError, match="no training images left.*filter_empty_gt=True removed 1"):
        make(path)
    assert len(make(path, test_mode=True)) == 1
    small = write_coco(tmp_path / "small.json", images=[TINY_IMAGES[3]],
                       annotations=[TINY_ANNOTATIONS[8]])
    with pytest.raises(ValueError, match="min_size=32 removed 1"):
        make(small)


def test_bad_annotations_are_reported(tmp_path):
    dup = write_coco(tmp_path / "dup.json", annotations=TINY_ANNOTATIONS + [TINY_ANNOTATIONS[0]])
    with pytest.raises(ValueError, match="not unique"):
        make(dup)
    dup_img = write_coco(tmp_path / "dupimg.json", images=TINY_IMAGES + [TINY_IMAGES[0]])
    with pytest.raises(ValueError, match="image id 5 appears more than once"):
        make(dup_img)
    nobox = write_coco(tmp_path / "nobox.json", annotations=[dict(id=1, image_id=5,
                                                                  category_id=17)])
    with pytest.raises(ValueError, match=r"annotations\[0\].*bbox"):
        make(nobox)


def test_default_classes_and_coco_accessor(tiny_coco):
    class AllCats(CocoDataset):
        CLASSES = None

    ds = AllCats(ann_file=str(tiny_coco), pipeline=[], test_mode=True)
    assert list(ds.CLASSES) == ["dog", "cat", "bird", "fish"]
    coco = ds.coco  # faster_coco_eval index of the same file, built on first use
    assert sorted(coco.get_cat_ids()) == [3, 17, 42, 99]
    assert ds.coco is coco
