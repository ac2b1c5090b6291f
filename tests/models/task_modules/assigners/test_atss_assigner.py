"""ATSSAssigner on hand-built boxes (values worked out in the comments) and against a plain
loop-by-loop rendering of the rule."""

import math

import pytest
import torch

from detbox.models.task_modules import ATSSAssigner
from detbox.ops import bbox_overlaps

# level 0: four 10x10 boxes in a row; level 1: two 20x20 boxes
BOXES = torch.tensor([[0.0, 0, 10, 10], [10, 0, 20, 10], [20, 0, 30, 10], [30, 0, 40, 10],
                      [0, 0, 20, 20], [20, 0, 40, 20]])
LEVELS = [4, 2]
GT = torch.tensor([[8.0, 0, 28, 10]])  # center (18, 5)


def test_hand_worked_example():
    # closest centers: level 0 boxes 1 (distance 3) and 2 (7); level 1 both boxes (9.4, 13).
    # IoUs 0.5, 80/220, 120/480, 80/520: mean 0.3169 + std 0.1492 = 0.4661 -> box 1 only.
    result = ATSSAssigner(topk=2).assign(BOXES, LEVELS, GT, gt_labels=torch.tensor([4]))
    assert result.gt_inds.tolist() == [0, 1, 0, 0, 0, 0]
    assert result.labels.tolist() == [-1, 4, -1, -1, -1, -1]
    assert result.max_overlaps[1].item() == pytest.approx(0.5)
    assert result.num_gts == 1


def test_center_must_lie_inside_the_ground_truth():
    # IoUs 0.45, 0, 0: threshold 0.15 + 0.26 = 0.41 passes box 0, but its center (10, 10) is
    # below the gt's bottom edge (9)
    boxes = torch.tensor([[0.0, 0, 20, 20], [30, 0, 40, 10], [50, 0, 60, 10]])
    result = ATSSAssigner(topk=3).assign(boxes, [3], torch.tensor([[0.0, 0, 20, 9]]))
    assert result.gt_inds.tolist() == [0, 0, 0]
    inside = ATSSAssigner(topk=3).assign(boxes, [3], torch.tensor([[0.0, 0, 20, 11]]))
    assert inside.gt_inds.tolist() == [1, 0, 0]


def test_no_ground_truth_and_no_boxes():
    result = ATSSAssigner(topk=3).assign(BOXES, LEVELS, torch.zeros(0, 4),
                                         gt_labels=torch.zeros(0, dtype=torch.long))
    assert result.gt_inds.tolist() == [0] * 6 and result.labels.tolist() == [-1] * 6
    empty = ATSSAssigner(topk=3).assign(torch.zeros(0, 4), [0], GT)
    assert empty.gt_inds.numel() == 0 and empty.labels is None


def test_ignored_boxes_are_marked_and_left_out():
    ignore = torch.tensor([[9.0, 0.0, 21.0, 11.0]])  # IoF 1 with box 1, at most 0.3 with others
    # candidates become boxes 2, 0 (level 0) and 4, 5: IoUs 0.364, 0.071, 0.25, 0.154,
    # threshold 0.210 + 0.126 = 0.336 -> box 2
    result = ATSSAssigner(topk=2, ignore_iof_thr=0.5).assign(BOXES, LEVELS, GT, ignore)
    assert result.gt_inds.tolist() == [0, -1, 1, 0, 0, 0]


def slow_atss(boxes, levels, gts, topk):
    """The rule written loop by loop (no ignore regions)."""
    ious = bbox_overlaps(boxes, gts)
    centers = (boxes[:, :2] + boxes[:, 2:]) / 2
    best = [(-math.inf, 0)] * len(boxes)
    for g, gt in enumerate(gts):
        gc = (gt[:2] + gt[2:]) / 2
        candidates, start = [], 0
        for n in levels:
            d = [((centers[i] - gc) ** 2).sum().sqrt().item() for i in range(start, start + n)]
            order = sorted(range(n), key=lambda i: d[i])[:min(topk, n)]
            candidates += [start + i for i in order]
            start += n
        values = torch.tensor([ious[i, g].item() for i in candidates], dtype=torch.float64)
        thr = values.mean() + values.std()
        for i in candidates:
            inside = min(centers[i, 0] - gt[0], centers[i, 1] - gt[1], gt[2] - centers[i, 0],
                         gt[3] - centers[i, 1]) > 0.01
            if ious[i, g] >= thr - 1e-6 and inside and ious[i, g] > best[i][0]:
                best[i] = (ious[i, g].item(), g + 1)
    return [g for _, g in best]


def test_matches_the_rule_on_random_boxes():
    torch.manual_seed(0)
    xy = torch.rand(60, 2) * 90
    boxes = torch.cat([xy, xy + 5 + torch.rand(60, 2) * 30], 1)
    xy = torch.rand(4, 2) * 70
    gts = torch.cat([xy, xy + 15 + torch.rand(4, 2) * 30], 1)
    result = ATSSAssigner(topk=5).assign(boxes, [30, 20, 10], gts)
    assert result.gt_inds.tolist() == slow_atss(boxes, [30, 20, 10], gts, 5)
    assert (result.gt_inds > 0).sum() >= 4
