"""IoU, GIoU, DIoU, CIoU and Bounded IoU losses against hand-computed (Bounded IoU: MMDetection
2.28.2-measured) values; zero-weight shortcuts."""

import math

import pytest
import torch

from detbox.models.losses import BoundedIoULoss, CIoULoss, DIoULoss, GIoULoss, IoULoss
from detbox.models.losses.iou_loss import bounded_iou_loss
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


# Bounded IoU: values printed by MMDetection 2.28.2's bounded_iou_loss / BoundedIoULoss for
# these boxes (side venv)
BIOU_PRED = torch.tensor([[0.0, 0.0, 10.0, 10.0], [5.0, 5.0, 25.0, 15.0], [2.0, 3.0, 8.0, 30.0]])
BIOU_TARGET = torch.tensor([[0.0, 0.0, 20.0, 10.0], [4.0, 6.0, 24.0, 16.0],
                            [0.0, 0.0, 10.0, 10.0]])
BIOU_MMDET = [[0.5666777491569519, 2.5008297654949274e-08, 0.40002498030662537,
               2.5008297654949274e-08],
              [0.08267839252948761, 0.23338893055915833, 6.2371796616389474e-09,
               2.5008297654949274e-08],
              [2.5008297654949274e-08, 0.8999999761581421, 0.3000600039958954,
               0.5296432971954346]]


def test_bounded_iou_loss_equals_mmdetection():
    out = bounded_iou_loss(BIOU_PRED, BIOU_TARGET, reduction="none")
    assert out.shape == (3, 4)  # per coordinate: dx, dy, dw, dh
    torch.testing.assert_close(out, torch.tensor(BIOU_MMDET), rtol=1e-5, atol=1e-9)
    loss = BoundedIoULoss(beta=0.2, loss_weight=2.0)
    weight = torch.tensor([[1.0, 1, 1, 1], [0, 0, 0, 0], [1, 1, 0, 0]])  # per coordinate
    assert loss(BIOU_PRED, BIOU_TARGET, weight, avg_factor=3.0).item() == pytest.approx(
        1.2444684505462646, rel=1e-6)
    assert loss(BIOU_PRED, BIOU_TARGET).item() == pytest.approx(0.5020788311958313, rel=1e-6)
    assert MODELS.build(dict(type="BoundedIoULoss")).beta == 0.2


def test_bounded_iou_loss_gradient_and_zero_weights():
    pred = BIOU_PRED.clone().requires_grad_(True)
    target = BIOU_TARGET.clone().requires_grad_(True)
    BoundedIoULoss()(pred, target).backward()
    assert pred.grad.abs().sum() > 0
    assert target.grad is None or target.grad.abs().sum() == 0  # no gradient into the target
    out = BoundedIoULoss(reduction="none")(pred, BIOU_TARGET, torch.zeros(3, 4))
    assert out.dim() == 0 and out.item() == 0.0 and out.requires_grad
    assert bounded_iou_loss(BIOU_PRED, BIOU_PRED, reduction="sum").item() < 1e-5  # a perfect fit
