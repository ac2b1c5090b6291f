"""IoU, GIoU, DIoU and CIoU losses against hand-computed values; zero-weight shortcuts."""

import math

import pytest
import torch

from detbox.models.losses import CIoULoss, DIoULoss, GIoULoss, IoULoss
from detbox.registry import MODELS

SQUARE = torch.tensor([[0.0, 0.0, 10.0, 10.0]])
SHIFTED = torch.tensor([[5.0, 0.0, 15.0, 10.0]])  # IoU 1/3 with SQUARE
FAR = torch.tensor([[20.0, 0.0, 30.0, 10.0]])  # disjoint, enclosing box 30 x 10


def test_iou_loss_modes():
    assert IoULoss()(SQUARE, SHIFTED).item() == pytest.approx(math.log(3), rel=1e-5)
    assert IoULoss(mode="linear")(SQUARE, SHIFTED).item() == pytest.approx(2 / 3, rel=1e-5)
    assert IoULoss(mode="square")(SQUARE, SHIFTED).item() == pytest.approx(8 / 9, rel=1e-5)
    with pytest.warns(UserWarning, match="linear"):
        assert IoULoss(linear=True).mode == "linear"
    # IoU clamped to eps: -log(1e-6)
    assert IoULoss()(SQUARE, FAR).item() == pytest.approx(-math.log(1e-6), rel=1e-5)


def test_giou_loss():
    loss = GIoULoss(reduction="none")
    torch.testing.assert_close(loss(SQUARE.repeat(2, 1), torch.cat([SHIFTED, FAR])),
                               torch.tensor([2 / 3, 4 / 3]))


def test_diou_loss():
    # centers (5, 5) and (10, 5): d^2 = 25; enclosing diagonal^2 = 15^2 + 10^2 = 325
    expected = 1 - (1 / 3 - 25 / 325)
    assert DIoULoss()(SQUARE, SHIFTED).item() == pytest.approx(expected, rel=1e-5)


def test_ciou_loss():
    target = torch.tensor([[0.0, 0.0, 12.0, 10.0]])
    iou = 100 / 120
    v = 4 / math.pi**2 * (math.atan(12 / 10) - math.atan(1.0)) ** 2
    alpha = v / (1 - iou + v)  # iou > 0.5
    expected = 1 - (iou - (1 / 244 + alpha * v))  # centers 1 apart, diagonal^2 = 144 + 100
    assert CIoULoss()(SQUARE, target).item() == pytest.approx(expected, rel=1e-5)
    # same aspect ratio: no aspect term, CIoU = DIoU
    assert CIoULoss()(SQUARE, SHIFTED).item() == pytest.approx(
        DIoULoss()(SQUARE, SHIFTED).item(), rel=1e-6)


def test_weights_reductions_and_avg_factor():
    pred, target = torch.cat([SQUARE, SQUARE]), torch.cat([SHIFTED, SQUARE])
    loss = GIoULoss()
    assert loss(pred, target).item() == pytest.approx((2 / 3) / 2, rel=1e-5)
    assert loss(pred, target, reduction_override="sum").item() == pytest.approx(2 / 3, rel=1e-5)
    weight4 = torch.tensor([[1.0, 1.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0]])  # means 0.5 and 1
    assert loss(pred, target, weight4, avg_factor=1.0).item() == pytest.approx(1 / 3, rel=1e-5)
    assert MODELS.build(dict(type="GIoULoss", loss_weight=2.0))(pred, target).item() == \
        pytest.approx(2 / 3, rel=1e-5)


def test_zero_weight_shortcut():
    pred = SQUARE.clone().requires_grad_(True)
    for cls in (GIoULoss, DIoULoss, CIoULoss):
        out = cls(reduction="none")(pred, SHIFTED, torch.zeros(1))
        assert out.dim() == 0 and out.item() == 0.0 and out.requires_grad
    out = IoULoss()(pred, SHIFTED, torch.zeros(1))
    assert out.dim() == 0 and out.item() == 0.0
    # IoULoss computes the element-wise loss for 'none'
    out = IoULoss(reduction="none")(pred, SHIFTED, torch.zeros(1))
    assert out.shape == (1,) and out.item() == 0.0
