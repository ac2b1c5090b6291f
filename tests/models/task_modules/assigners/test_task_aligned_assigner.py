"""TaskAlignedAssigner: metric s^alpha * IoU^beta, top-k candidates, centers inside, best IoU."""

import pytest
import torch

from detbox.models.task_modules.assigners import TaskAlignedAssigner
from detbox.registry import TASK_UTILS

ANCHORS = torch.tensor([[0.0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30], [22, 18, 34, 30]])


def test_topk_by_metric_then_centers_inside_then_highest_iou():
    assigner = TASK_UTILS.build(dict(type="TaskAlignedAssigner", topk=2))
    gts = torch.tensor([[0.0, 0, 12, 10], [19.0, 19, 33, 31]])
    scores = torch.tensor([[0.9, 0.1], [0.5, 0.2], [0.1, 0.6], [0.3, 0.8]])
    preds = ANCHORS.clone()
    result = assigner.assign(scores, preds, ANCHORS, gts, gt_labels=torch.tensor([0, 1]),
                             alpha=1, beta=6)
    assert result.gt_inds.tolist() == [1, 1, 2, 2]
    assert result.labels.tolist() == [0, 0, 1, 1]
    iou = torch.tensor([100 / 120, 70 / 150, 100 / 168, 121 / 191])
    torch.testing.assert_close(result.max_overlaps, iou)
    metric = torch.tensor([0.9, 0.5, 0.6, 0.8]) * iou ** 6
    torch.testing.assert_close(result.assign_metrics, metric)


def test_a_candidate_whose_center_is_outside_is_negative_and_topk_limits():
    assigner = TaskAlignedAssigner(topk=1)
    gts = torch.tensor([[0.0, 0, 12, 10]])
    scores = torch.tensor([[0.1], [0.9], [0.1], [0.1]])
    preds = torch.tensor([[0.0, 0, 12, 10], [0, 0, 12, 10], [0, 0, 1, 1], [0, 0, 1, 1]])
    # anchor 1 has the best metric (same box, higher score) and wins the single slot
    result = assigner.assign(scores, preds, ANCHORS, gts, gt_labels=torch.tensor([0]))
    assert result.gt_inds.tolist() == [0, 1, 0, 0]
    # with its center (10, 5) on the box's border it would not count
    result = assigner.assign(scores, preds, ANCHORS, torch.tensor([[0.0, 0, 10, 10]]),
                             gt_labels=torch.tensor([0]))
    assert result.gt_inds.tolist() == [0, 0, 0, 0]
    assert (result.assign_metrics == 0).all()


def test_no_ground_truth_gives_all_negatives():
    result = TaskAlignedAssigner(topk=3).assign(torch.rand(4, 2), ANCHORS, ANCHORS,
                                                torch.zeros(0, 4),
                                                gt_labels=torch.zeros(0, dtype=torch.long))
    assert result.gt_inds.tolist() == [0, 0, 0, 0] and result.labels.tolist() == [-1] * 4
    assert result.assign_metrics.tolist() == [0.0] * 4


def test_topk_must_be_positive():
    with pytest.raises(AssertionError, match="topk"):
        TaskAlignedAssigner(topk=0)
