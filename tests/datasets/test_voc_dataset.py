"""XMLDataset / VOCDataset on hand-written XML and on the real BCCD data set."""

import logging
import os

import cv2
import numpy as np
import pytest

from detbox.datasets import VOCDataset, XMLDataset, build_dataset

BCCD_CLASSES = ("RBC", "WBC", "Platelets")
SPLITS = {"train": 205, "val": 87, "test": 72}


def write_xml(path, objects, size=(100, 80)):
    size_xml = "" if size is None else (
        f"<size><width>{size[0]}</width><height>{size[1]}</height><depth>3</depth></size>")
    objs = "".join(
        f"<object><name>{name}</name><difficult>{diff}</difficult><bndbox>"
        f"<xmin>{b[0]}</xmin><ymin>{b[1]}</ymin><xmax>{b[2]}</xmax><ymax>{b[3]}</ymax>"
        f"</bndbox></object>" for name, diff, b in objects)
    path.write_text(f"<annotation>{size_xml}{objs}</annotation>")


@pytest.fixture
def voc_root(tmp_path):
    root = tmp_path / "VOCdevkit" / "VOC2007"
    (root / "Annotations").mkdir(parents=True)
    (root / "JPEGImages").mkdir()
    (root / "ImageSets" / "Main").mkdir(parents=True)
    write_xml(root / "Annotations" / "000001.xml", [
        ("dog", 0, (11, 21, 51, 61)),          # -> [10, 20, 50, 60]
        ("cat", 1, (1, 1, 41, 41)),            # difficult -> ignore
        ("cat", 0, ("5.7", "5.2", "9.9", "30.0")),  # int(float()) -> [5, 5, 9, 30] - 1
        ("horse", 0, (1, 1, 20, 20)),          # not a class: skipped
        ("dog", 0, (30, 30, 30, 50)),          # zero width: dropped
    ])
    write_xml(root / "Annotations" / "000002.xml", [("horse", 0, (1, 1, 9, 9))])
    write_xml(root / "Annotations" / "000003.xml", [("cat", 0, (2, 2, 12, 12))], size=None)
    cv2.imwrite(str(root / "JPEGImages" / "000003.jpg"), np.zeros((70, 50, 3), np.uint8))
    (root / "ImageSets" / "Main" / "trainval.txt").write_text("000001\n000002\n000003\n")
    return root


def make_voc(root, **kwargs):
    kwargs.setdefault("classes", ("cat", "dog"))
    return VOCDataset(ann_file=str(root / "ImageSets/Main/trainval.txt"), pipeline=[],
                      img_prefix=str(root) + "/", **kwargs)


def test_voc_boxes_difficult_and_one_based(voc_root, caplog):
    with caplog.at_level(logging.WARNING):
        ds = make_voc(voc_root, test_mode=True)
    assert "000001" in caplog.text and "zero or negative" in caplog.text
    assert ds.year == 2007 and ds.cat2label == {"cat": 0, "dog": 1}
    ann = ds.get_ann_info(0)
    np.testing.assert_array_equal(ann["bboxes"], [[10, 20, 50, 60], [4, 4, 8, 29]])
    np.testing.assert_array_equal(ann["labels"], [1, 0])
    np.testing.assert_array_equal(ann["bboxes_ignore"], [[0, 0, 40, 40]])
    np.testing.assert_array_equal(ann["labels_ignore"], [0])
    assert ann["bboxes"].dtype == np.float32 and ann["labels"].dtype == np.int64
    assert ds.get_cat_ids(0) == [1, 0, 0, 1]  # v2: every object of the classes
    assert ds.data_infos[0] == dict(id="000001", filename="JPEGImages/000001.jpg",
                                    width=100, height=80)


def test_missing_size_is_read_from_the_image(voc_root):
    ds = make_voc(voc_root, test_mode=True)
    assert (ds.data_infos[2]["width"], ds.data_infos[2]["height"]) == (50, 70)


def test_training_filters_images_without_classes(voc_root):
    ds = make_voc(voc_root)
    assert [info["id"] for info in ds.data_infos] == ["000001", "000003"]  # 000002: only horse
    assert len(make_voc(voc_root, filter_empty_gt=False)) == 3


def test_min_size_moves_small_boxes_to_ignore(voc_root):
    ds = make_voc(voc_root, min_size=10)
    ann = ds.get_ann_info(0)
    np.testing.assert_array_equal(ann["bboxes"], [[10, 20, 50, 60]])  # the 4 px wide cat goes
    np.testing.assert_array_equal(ann["bboxes_ignore"], [[0, 0, 40, 40], [4, 4, 8, 29]])
    with pytest.raises(ValueError, match="min_size is for training only"):
        make_voc(voc_root, min_size=10, test_mode=True)


def test_xml_errors_are_clear(voc_root):
    (voc_root / "ImageSets/Main/trainval.txt").write_text("000001\n000009\n")
    with pytest.raises(FileNotFoundError, match="000009.xml.*listed in .*trainval.txt"):
        make_voc(voc_root)
    (voc_root / "Annotations" / "000001.xml").write_text("<annotation><object>")
    (voc_root / "ImageSets/Main/trainval.txt").write_text("000001\n")
    with pytest.raises(ValueError, match="000001.xml is not valid XML"):
        make_voc(voc_root)
    with pytest.raises(ValueError, match="needs class names"):
        XMLDataset(ann_file="x.txt", pipeline=[])


def test_year_is_none_outside_voc_folders(tmp_path, voc_root):
    other = tmp_path / "mine"
    os.rename(voc_root, other)
    assert make_voc(other).year is None


# ----------------------------------------------------------------------------- BCCD
def bccd(root, split, **kwargs):
    return VOCDataset(ann_file=f"ImageSets/Main/{split}.txt", img_prefix="", data_root=str(root),
                      classes=BCCD_CLASSES, pipeline=[], **kwargs)


def test_bccd_split_sizes(bccd_root):
    for split, n in SPLITS.items():
        assert len(bccd(bccd_root, split, test_mode=True)) == n
    assert len(bccd(bccd_root, "trainval")) == 292
    both = build_dataset(dict(
        type="VOCDataset", data_root=str(bccd_root), classes=BCCD_CLASSES, pipeline=[],
        ann_file=[f"ImageSets/Main/{s}.txt" for s in SPLITS], img_prefix="", test_mode=True))
    assert len(both) == 364
    ids = [info["id"] for ds in both.datasets for info in ds.data_infos]
    assert len(set(ids)) == 364


def test_bccd_boxes_have_area_and_classes(bccd_root):
    datasets = [bccd(bccd_root, s, test_mode=True) for s in SPLITS]
    total, labels = 0, set()
    for ds in datasets:
        for i in range(len(ds)):
            ann = ds.get_ann_info(i)
            for boxes in (ann["bboxes"], ann["bboxes_ignore"]):
                assert np.all(boxes[:, 2] > boxes[:, 0]) and np.all(boxes[:, 3] > boxes[:, 1])
            total += len(ann["bboxes"]) + len(ann["bboxes_ignore"])
            labels |= set(ann["labels"].tolist())
    assert total == 4888 - 2  # the two zero-area RBC boxes are dropped
    assert labels == {0, 1, 2}
    ds = datasets[[*SPLITS].index(_split_of(bccd_root, "BloodImage_00338"))]
    idx = [info["id"] for info in ds.data_infos].index("BloodImage_00338")
    ann = ds.get_ann_info(idx)
    assert len(ann["bboxes"]) == 13  # 14 objects in the XML, one of zero area
    np.testing.assert_array_equal(ann["bboxes"][0], [452, 80, 554, 181])  # 1-based -> 0-based


def _split_of(root, img_id):
    for split in SPLITS:
        if img_id in (root / f"ImageSets/Main/{split}.txt").read_text().split():
            return split
    raise AssertionError(img_id)
