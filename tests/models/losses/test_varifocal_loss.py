"""VarifocalLoss against its formula: IoU-weighted positives, focal-weighted negatives."""

import math

import pytest
import torch

from detbox.models.losses import VarifocalLoss


def vfl_by_hand(pred, target, alpha=0.75, gamma=2.0, iou_weighted=True):
    out = torch.empty_like(pred)
    for idx in range(pred.numel()):
        x, q = float(pred.view(-1)[idx]), float(target.view(-1)[idx])
        p = 1 / (1 + math.exp(-x))
        bce = -(q * math.log(p) + (1 - q) * math.log(1 - p))
        weight = (q if iou_weighted else 1.0) if q > 0 else alpha * abs(p - q) ** gamma
        out.view(-1)[idx] = bce * weight
    return out


@pytest.mark.parametrize("iou_weighted", [True, False])
def test_varifocal_loss_equals_its_formula(iou_weighted):
    torch.manual_seed(0)
    pred = torch.randn(5, 3)
    target = torch.zeros(5, 3)
    target[0, 1], target[2, 0], target[4, 2] = 0.8, 0.3, 0.55
    loss = VarifocalLoss(iou_weighted=iou_weighted, loss_weight=2.0)
    expected = vfl_by_hand(pred, target, iou_weighted=iou_weighted)
    torch.testing.assert_close(loss(pred, target, reduction_override="none"), 2.0 * expected)
    torch.testing.assert_close(loss(pred, target, avg_factor=3.0), 2.0 * expected.sum() / 3.0)


def test_varifocal_loss_checks_its_arguments():
    with pytest.raises(AssertionError, match="same shape"):
        VarifocalLoss()(torch.zeros(2, 3), torch.zeros(2))
    with pytest.raises(AssertionError, match="alpha"):
        VarifocalLoss(alpha=-0.1)
