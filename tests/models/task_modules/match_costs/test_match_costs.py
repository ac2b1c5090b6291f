"""Match costs: values by hand for each cost and box format."""

import math

import pytest
import torch

from detbox.models.task_modules import BBoxL1Cost, ClassificationCost, FocalLossCost, IoUCost
from detbox.registry import TASK_UTILS


def test_bbox_l1_cost_formats():
    pred = torch.tensor([[0.5, 0.5, 0.2, 0.4]])  # cx, cy, w, h
    gt = torch.tensor([[0.4, 0.3, 0.6, 0.7], [0.0, 0.0, 0.1, 0.1]])  # x1, y1, x2, y2
    xyxy = BBoxL1Cost(weight=2.0)(pred, gt)
    torch.testing.assert_close(xyxy, torch.tensor([[0.0, 2 * (0.4 + 0.3 + 0.5 + 0.6)]]))
    xywh = BBoxL1Cost(box_format="xywh")(pred, gt)
    torch.testing.assert_close(xywh, torch.tensor([[0.0, 0.45 + 0.45 + 0.1 + 0.3]]))
    with pytest.raises(ValueError, match="box_format"):
        BBoxL1Cost(box_format="cxcy")


def test_classification_and_focal_costs():
    logits = torch.tensor([[2.0, 0.0, -1.0]])
    labels = torch.tensor([0, 2, 0])
    probs = logits.softmax(-1)[0]
    torch.testing.assert_close(ClassificationCost(weight=3.0)(logits, labels),
                               -3.0 * probs[labels][None])
    cost = FocalLossCost(weight=2.0, alpha=0.25, gamma=2)(logits, labels)
    p = torch.sigmoid(torch.tensor(2.0))
    expected = 2.0 * (-math.log(p) * 0.25 * (1 - p) ** 2 + math.log(1 - p) * 0.75 * p ** 2)
    assert cost.shape == (1, 3)
    assert math.isclose(float(cost[0, 0]), float(expected), rel_tol=1e-5)
    masks = FocalLossCost(binary_input=True)(torch.zeros(2, 4, 4), torch.ones(3, 4, 4))
    assert masks.shape == (2, 3)


def test_iou_cost_and_registry():
    boxes = torch.tensor([[0.0, 0.0, 2.0, 2.0]])
    gts = torch.tensor([[0.0, 0.0, 2.0, 2.0], [4.0, 4.0, 6.0, 6.0]])
    iou = IoUCost(iou_mode="iou", weight=1.0)(boxes, gts)
    torch.testing.assert_close(iou, torch.tensor([[-1.0, 0.0]]))
    giou = TASK_UTILS.build(dict(type="IoUCost", iou_mode="giou", weight=2.0))(boxes, gts)
    # enclosing box 6x6 = 36, union 8: giou = 0 - 28 / 36
    torch.testing.assert_close(giou, torch.tensor([[-2.0, 2.0 * 28 / 36]]))
