"""weight_reduce_loss / weighted_loss: weights, reductions and avg_factor semantics."""

import pytest
import torch

from detbox.models.losses import reduce_loss, weight_reduce_loss, weighted_loss

EPS = torch.finfo(torch.float32).eps
LOSS = torch.tensor([1.0, 2.0, 3.0, 6.0])
WEIGHT = torch.tensor([1.0, 0.0, 1.0, 0.5])


def test_reductions_without_avg_factor():
    assert reduce_loss(LOSS, "mean").item() == 3.0
    assert reduce_loss(LOSS, "sum").item() == 12.0
    assert torch.equal(reduce_loss(LOSS, "none"), LOSS)
    assert weight_reduce_loss(LOSS, WEIGHT).item() == pytest.approx(7.0 / 4)
    assert weight_reduce_loss(LOSS, WEIGHT, reduction="sum").item() == 7.0
    torch.testing.assert_close(weight_reduce_loss(LOSS, WEIGHT, reduction="none"),
                               torch.tensor([1.0, 0.0, 3.0, 3.0]))
    with pytest.raises(ValueError, match="reduction"):
        reduce_loss(LOSS, "avg")


def test_avg_factor_only_with_mean():
    out = weight_reduce_loss(LOSS, WEIGHT, reduction="mean", avg_factor=2)
    assert out.item() == pytest.approx(7.0 / (2 + EPS))
    # avg_factor 0 (everything ignored) does not divide by zero
    assert weight_reduce_loss(LOSS * 0, reduction="mean", avg_factor=0).item() == 0.0
    # with 'none' the avg_factor is ignored
    torch.testing.assert_close(weight_reduce_loss(LOSS, reduction="none", avg_factor=2), LOSS)
    with pytest.raises(ValueError, match="avg_factor"):
        weight_reduce_loss(LOSS, reduction="sum", avg_factor=2)


def test_weighted_loss_decorator():
    @weighted_loss
    def sq(pred, target, scale=1.0):
        return scale * (pred - target) ** 2

    pred, target = torch.tensor([1.0, 2.0, 4.0]), torch.zeros(3)
    assert sq(pred, target).item() == pytest.approx(7.0)
    assert sq(pred, target, reduction="sum", scale=2.0).item() == pytest.approx(42.0)
    assert sq(pred, target, torch.tensor([0.0, 1.0, 0.0]), avg_factor=1).item() == pytest.approx(
        4.0 / (1 + EPS))
    assert sq.__name__ == "sq"
