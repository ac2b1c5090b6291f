"""The data check: every image file found and readable, one report, all problems at once."""

from __future__ import annotations

import json
import logging

import cv2
import numpy as np
import pytest

from detbox.datasets import CocoDataset, RepeatDataset
from detbox.datasets.data_check import DataCheckError, check_dataset, check_image_file

CLASSES = ("cat", "dog")


def write_set(root, anns_of, names=None):
    """Images ``img{i}.png`` (64x48) under root/images and root/ann.json with ``anns_of[i]``
    = list of (category_id, [x, y, w, h], iscrowd)."""
    (root / "images").mkdir(parents=True, exist_ok=True)
    images, annotations = [], []
    for i, anns in enumerate(anns_of):
        name = names[i] if names else f"img{i}.png"
        cv2.imwrite(str(root / "images" / f"img{i}.png"), np.full((48, 64, 3), 100, np.uint8))
        images.append(dict(id=i + 1, file_name=name, width=64, height=48))
        for cat, box, crowd in anns:
            annotations.append(dict(id=len(annotations) + 1, image_id=i + 1, category_id=cat,
                                    bbox=box, area=box[2] * box[3], iscrowd=crowd))
    categories = [dict(id=1, name="cat"), dict(id=2, name="dog")]
    (root / "ann.json").write_text(json.dumps(dict(images=images, annotations=annotations,
                                                   categories=categories)))
    return root / "ann.json"


def dataset(root, ann, prefix="images/", test_mode=True):
    return CocoDataset(str(ann), pipeline=[], classes=CLASSES, img_prefix=str(root / prefix),
                       test_mode=test_mode)


def test_report_counts_on_a_hand_made_set(tmp_path, caplog):
    ann = write_set(tmp_path, [
        [(1, [1, 1, 10, 10], 0), (1, [20, 5, 10, 10], 0), (2, [3, 3, 20, 20], 0)],
        [(2, [5, 5, 0, 10], 0), (2, [5, 5, 10, 10], 0)],  # a zero-area box dropped
        [(1, [100, 100, 10, 10], 0)],  # outside the 64x48 image: dropped, no box left
        [(1, [2, 2, 30, 30], 1), (2, [4, 4, 8, 8], 0)],  # crowd: kept as ignored
        [],  # no annotation
    ])
    with caplog.at_level(logging.INFO):
        (report,) = check_dataset(dataset(tmp_path, ann), "data.val")
    assert report.images == 5
    assert report.instances == {"cat": 2, "dog": 3}
    assert report.without_boxes == 2
    assert report.dropped == {"zero area": 1, "outside the image": 1, "crowd (ignored)": 1}
    assert report.missing == [] and report.corrupt == []
    text = caplog.text
    assert "data check data.val (CocoDataset" in text and "5 images, 5 instances" in text
    assert "cat: 2, dog: 3" in text and "2 images without boxes" in text
    assert "1 zero area, 1 outside the image, 1 crowd (ignored)" in text


def test_missing_and_corrupt_files_are_one_error_naming_both(tmp_path):
    ann = write_set(tmp_path, [[(1, [1, 1, 10, 10], 0)]] * 4)
    (tmp_path / "images" / "img1.png").unlink()
    (tmp_path / "images" / "img2.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage, not an image")
    ds = dataset(tmp_path, ann, test_mode=False)
    with pytest.raises(DataCheckError) as err:
        check_dataset(ds, "data.train")
    text = str(err.value)
    assert str(tmp_path / "images" / "img1.png") in text
    assert str(tmp_path / "images" / "img2.png") in text
    assert "1 image files do not exist" in text and "1 image files cannot be decoded" in text
    assert "data.train.skip_invalid_images=True" in text
    check_dataset(ds, "data.train", skip_invalid=True)
    assert len(ds) == 2 and [ds.data_infos[i]["filename"] for i in range(2)] == [
        "img0.png", "img3.png"]
    assert len(ds.flag) == 2


def test_skipping_updates_the_wrappers(tmp_path, caplog):
    ann = write_set(tmp_path, [[(1, [1, 1, 10, 10], 0)]] * 3)
    (tmp_path / "images" / "img0.png").unlink()
    wrapped = RepeatDataset(dataset(tmp_path, ann, test_mode=False), times=2)
    assert len(wrapped) == 6
    with caplog.at_level(logging.WARNING):
        check_dataset(wrapped, "data.train", skip_invalid=True)
    assert len(wrapped) == 4 and len(wrapped.flag) == 4
    assert "1 images dropped from data.train" in caplog.text


def test_a_doubled_folder_is_named_with_the_path_tried(tmp_path):
    ann = write_set(tmp_path, [[(1, [1, 1, 10, 10], 0)]] * 2,
                    names=["images/img0.png", "images/img1.png"])
    with pytest.raises(DataCheckError) as err:
        check_dataset(dataset(tmp_path, ann), "data.test")
    text = str(err.value)
    assert str(tmp_path / "images" / "images" / "img0.png") in text  # the path tried
    assert f"set img_prefix='{tmp_path}/'" in text


def test_a_missing_folder_is_named(tmp_path):
    ann = write_set(tmp_path, [[(1, [1, 1, 10, 10], 0)]])
    with pytest.raises(DataCheckError) as err:
        check_dataset(dataset(tmp_path, ann, prefix=""), "data.test")
    assert f"set img_prefix='{tmp_path / 'images'}/'" in str(err.value)
    with pytest.raises(DataCheckError, match="is not a folder"):
        check_dataset(dataset(tmp_path, ann, prefix="nope/"), "data.test")


def test_check_image_file(tmp_path):
    good = tmp_path / "a.jpg"
    cv2.imwrite(str(good), np.zeros((8, 8, 3), np.uint8))
    assert check_image_file(str(good)) is None
    assert check_image_file(str(tmp_path / "none.jpg")) == "missing"
    bad = tmp_path / "b.jpg"
    bad.write_bytes(b"")
    assert check_image_file(str(bad)) is not None
