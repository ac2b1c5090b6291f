"""``GaussianFocalLoss``: the formula on hand-computed values, weights and reduction."""

import math

import pytest
import torch

from detbox.models.losses import GaussianFocalLoss


def test_positive_and_down_weighted_negative():
    pred = torch.tensor([0.8, 0.3])
    target = torch.tensor([1.0, 0.5])
    loss = GaussianFocalLoss(alpha=2.0, gamma=4.0, reduction="none")(pred, target)
    expected = [-math.log(0.8) * 0.2 ** 2, -math.log(0.7) * 0.3 ** 2 * 0.5 ** 4]
    torch.testing.assert_close(loss, torch.tensor(expected))


def test_avg_factor_and_loss_weight():
    pred, target = torch.full((2, 3), 0.4), torch.zeros(2, 3)
    loss = GaussianFocalLoss(loss_weight=2.0)(pred, target, avg_factor=3)
    assert loss.item() == pytest.approx(2.0 * 6 * -math.log(0.6) * 0.16 / 3, rel=1e-5)
