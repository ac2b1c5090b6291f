"""SmoothL1Loss and L1Loss against hand-computed values."""

import pytest
import torch

from detbox.models.losses import L1Loss, SmoothL1Loss
from detbox.registry import MODELS

PRED = torch.tensor([0.0, 0.5, 3.0])
TARGET = torch.zeros(3)


def test_smooth_l1_by_hand():
    # beta 1: 0, 0.5 * 0.25 = 0.125, 3 - 0.5 = 2.5
    torch.testing.assert_close(SmoothL1Loss(reduction="none")(PRED, TARGET),
                               torch.tensor([0.0, 0.125, 2.5]))
    assert SmoothL1Loss()(PRED, TARGET).item() == pytest.approx(2.625 / 3)
    # beta 0.5: 0.5 is not < beta -> 0.5 - 0.25; 3 -> 2.75
    assert SmoothL1Loss(beta=0.5, reduction="sum")(PRED, TARGET).item() == pytest.approx(3.0)
    assert SmoothL1Loss(loss_weight=2.0)(PRED, TARGET, avg_factor=1.0).item() == \
        pytest.approx(2 * 2.625, rel=1e-6)


def test_l1_by_hand_with_weights():
    loss = L1Loss()
    assert loss(PRED, TARGET).item() == pytest.approx(3.5 / 3)
    weight = torch.tensor([1.0, 1.0, 0.0])
    assert loss(PRED, TARGET, weight, reduction_override="sum").item() == pytest.approx(0.5)
    with pytest.raises(ValueError, match="avg_factor"):
        loss(PRED, TARGET, avg_factor=2, reduction_override="sum")


def test_empty_target_gives_zero_with_grad():
    pred = torch.zeros(0, 4, requires_grad=True)
    out = MODELS.build(dict(type="SmoothL1Loss", beta=1.0 / 9.0, loss_weight=1.0))(
        pred, torch.zeros(0, 4))
    assert out.item() == 0.0 and out.requires_grad
    assert L1Loss()(pred, torch.zeros(0, 4)).item() == 0.0


def test_shape_mismatch():
    with pytest.raises(AssertionError, match="shape"):
        L1Loss()(PRED, torch.zeros(2))
