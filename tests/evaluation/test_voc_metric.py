import logging

import numpy as np
import pytest

from detbox.evaluation import voc_evaluate


def arr(rows, cols=5):
    return np.array(rows, dtype=np.float32).reshape(-1, cols)


# class 0: scores 0.9 (TP), 0.8 (FP), 0.7 (TP) over two ground truths -> PR (.5, 1) (.5, .5)
# (1, 2/3); class 1: a single detection with IoU 0.6 (legacy +1 convention) with its box
RESULTS = [
    [arr([[0, 0, 9, 9, 0.9]]), arr([[20, 20, 39, 31, 0.6]])],
    [arr([[0, 0, 9, 9, 0.8], [50, 50, 59, 59, 0.7]]), arr([])],
]
ANNS = [
    dict(bboxes=arr([[0, 0, 9, 9], [20, 20, 39, 39]], 4), labels=np.array([0, 1]),
         bboxes_ignore=arr([], 4), labels_ignore=np.array([], dtype=np.int64)),
    dict(bboxes=arr([[50, 50, 59, 59]], 4), labels=np.array([0]),
         bboxes_ignore=arr([], 4), labels_ignore=np.array([], dtype=np.int64)),
]
AREA_AP0 = 0.5 + 0.5 * 2 / 3
POINTS_AP0 = (6 + 5 * 2 / 3) / 11


def test_voc2007_uses_11_points_and_v2_keys(caplog):
    with caplog.at_level(logging.INFO, logger="detbox.evaluation"):
        res = voc_evaluate(RESULTS, ANNS, ("cat", "dog"), year=2007)
    assert list(res) == ["mAP", "AP50"]
    assert res["mAP"] == pytest.approx((POINTS_AP0 + 1) / 2, rel=1e-6)
    assert res["AP50"] == round(res["mAP"], 3)
    assert "| dog   | 1   | 1    | 1.000  | 1.000 |" in caplog.text
    assert "iou_thr: 0.5" in caplog.text


def test_other_years_use_area_and_several_thresholds():
    res = voc_evaluate(RESULTS, ANNS, ("cat", "dog"), year=2012, iou_thr=[0.5, 0.7])
    assert list(res) == ["mAP", "AP50", "AP70"]
    # at 0.7 the class-1 detection (IoU 240/400 = 0.6 with +1 widths) is a false positive
    assert res["AP50"] == round((AREA_AP0 + 1) / 2, 3)
    assert res["AP70"] == round(AREA_AP0 / 2, 3)
    assert res["mAP"] == pytest.approx(((AREA_AP0 + 1) / 2 + AREA_AP0 / 2) / 2, rel=1e-6)
    same = voc_evaluate(RESULTS, ANNS, ("cat", "dog"), year=None, iou_thr=[0.5, 0.7],
                        logger="silent")
    assert same == res


def test_recall_metric_keys():
    proposals = [arr([[0, 0, 9, 9, 0.9], [20, 20, 39, 31, 0.6]]), arr([[50, 50, 59, 59, 1.0]])]
    res = voc_evaluate(proposals, ANNS, ("cat", "dog"), metric="recall", proposal_nums=(1, 2),
                       iou_thr=[0.5, 0.7], logger="silent")
    assert res == {"recall@1@0.5": pytest.approx(2 / 3), "recall@1@0.7": pytest.approx(2 / 3),
                   "recall@2@0.5": 1.0, "recall@2@0.7": pytest.approx(2 / 3),
                   "AR@1": pytest.approx(2 / 3), "AR@2": pytest.approx(5 / 6)}


def test_bad_metric_and_lengths():
    with pytest.raises(KeyError, match="not supported"):
        voc_evaluate(RESULTS, ANNS, ("cat", "dog"), metric="bbox")
    with pytest.raises(ValueError, match="2 != 1"):
        voc_evaluate(RESULTS, ANNS[:1], ("cat", "dog"))


def test_custom_dataset_evaluation_is_v2s_base_one():
    from detbox.evaluation import custom_evaluate

    res = custom_evaluate(RESULTS, ANNS, ("cat", "dog"), iou_thr=[0.5, 0.6], logger="silent")
    # AP keys first, mAP last; exclusive coordinates: the class-1 IoU is 19*11/(19*19) = 0.58
    assert list(res) == ["AP50", "AP60", "mAP"]
    assert res["AP50"] == round((AREA_AP0 + 1) / 2, 3)
    assert res["AP60"] == round(AREA_AP0 / 2, 3)
    with pytest.raises(ValueError, match="scale_ranges"):
        custom_evaluate(RESULTS, ANNS, ("cat", "dog"), scale_ranges=[(0, 10)])
