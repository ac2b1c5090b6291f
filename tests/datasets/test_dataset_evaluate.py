"""``dataset.evaluate`` hooked up to the metrics: perfect results score 1, v2's keys."""

import numpy as np
import pytest

from detbox.datasets import CocoDataset, VOCDataset
from tests.datasets.dataset_fixtures import BCCD_ROOT, write_coco


def perfect_results(dataset):
    """Each image's ground-truth boxes as detections with score 1."""
    results = []
    for i in range(len(dataset)):
        ann = dataset.get_ann_info(i)
        per_class = []
        for c in range(len(dataset.CLASSES)):
            boxes = ann["bboxes"][ann["labels"] == c]
            per_class.append(np.hstack([boxes, np.ones((len(boxes), 1))]).astype(np.float32))
        results.append(per_class)
    return results


CLEAN_IMAGES = [dict(id=5, file_name="a.jpg", width=100, height=80),
                dict(id=2, file_name="b.jpg", width=60, height=100)]
CLEAN_ANNS = [
    dict(id=1, image_id=5, category_id=17, bbox=[10, 10, 20, 30], area=600, iscrowd=0),
    dict(id=2, image_id=5, category_id=3, bbox=[40, 20, 50, 50], area=2500, iscrowd=0),
    dict(id=3, image_id=2, category_id=42, bbox=[1, 2, 30, 40], area=1200, iscrowd=0),
    dict(id=4, image_id=2, category_id=3, bbox=[5, 50, 40, 40], area=1600, iscrowd=0),
]


def test_coco_evaluate_perfect_and_empty(tmp_path):
    ann = write_coco(tmp_path / "ann.json", images=CLEAN_IMAGES, annotations=CLEAN_ANNS)
    ds = CocoDataset(ann_file=str(ann), pipeline=[], classes=("dog", "cat", "bird"),
                     test_mode=True)
    metrics = ds.evaluate(perfect_results(ds), metric="bbox", classwise=True)
    assert metrics["bbox_mAP_50"] == 1.0 and metrics["bbox_mAP"] == 1.0
    assert metrics["bbox_AP_dog"] == 1.0
    assert "bbox_mAP_copypaste" in metrics
    empty = [[np.zeros((0, 5), np.float32) for _ in range(3)] for _ in range(len(ds))]
    assert ds.evaluate(empty)["bbox_mAP"] == 0.0
    files, tmp = ds.format_results(perfect_results(ds), str(tmp_path / "out"))
    assert (tmp_path / "out.bbox.json").is_file() and tmp is None and files["bbox"]


def test_voc_evaluate_on_bccd_perfect_results():
    ds = VOCDataset(ann_file=str(BCCD_ROOT / "ImageSets/Main/test.txt"),
                    img_prefix=str(BCCD_ROOT), pipeline=[], classes=("RBC", "WBC", "Platelets"),
                    test_mode=True)
    metrics = ds.evaluate(perfect_results(ds))
    assert metrics["mAP"] == pytest.approx(1.0)
