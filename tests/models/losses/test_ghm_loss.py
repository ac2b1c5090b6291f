"""GHMC and GHMR: gradient-density weights, momentum buffers, reductions."""

import pytest
import torch
import torch.nn.functional as F

from detbox.models.losses import GHMC, GHMR


def test_ghmc_weights_by_bin_density():
    pred = torch.tensor([[3.0, -3.0], [-3.0, -3.0], [-3.0, -3.0], [0.0, 0.0]])
    labels = torch.tensor([0, 2, 2, 1])  # 2 = background
    loss = GHMC(bins=2)(pred, labels, torch.ones(4))
    # g = |sigmoid - target|: six elements at 0.047 (bin 0), the last row's two at 0.5
    # (bin 1); weights tot / count / n_bins = 8/6/2 and 8/2/2, the sum divided by tot = 8
    target = F.one_hot(labels, 3)[:, :2].float()
    bce = F.binary_cross_entropy_with_logits(pred, target, reduction="none")
    g = (pred.sigmoid() - target).abs()
    weights = torch.where(g < 0.5, torch.tensor(8 / 6 / 2), torch.tensor(8 / 2 / 2))
    assert float(loss) == pytest.approx(float((bce * weights).sum() / 8), rel=1e-6)
    assert set(GHMC().state_dict()) == {"edges"}


def test_ghmc_momentum_and_ignored_elements():
    loss = GHMC(bins=3, momentum=0.75)
    assert set(loss.state_dict()) == {"edges", "acc_sum"}
    pred = torch.randn(6, 3)
    out = loss(pred, torch.tensor([0, 1, 2, 3, 3, 3]), torch.tensor([1.0, 1, 1, 1, 0, 0]))
    assert out > 0 and loss.acc_sum.sum() == pytest.approx(0.25 * 12)  # 12 valid elements
    assert loss(pred, torch.full((6,), 3), torch.zeros(6)) == 0  # nothing valid
    with pytest.raises(NotImplementedError):
        GHMC(use_sigmoid=False)


def test_ghmr_is_weighted_asl1():
    pred = torch.tensor([[0.0, 0.1, 0.5, 2.0]])
    target = torch.zeros(1, 4)
    loss = GHMR(mu=0.02, bins=10)(pred, target, torch.ones(1, 4), reduction_override="none")
    asl1 = torch.sqrt(pred ** 2 + 0.02 ** 2) - 0.02
    # g: 0, 0.98, 0.999, 0.99995 -> bins 0, 9, 9, 9: weights 4/1/2 and 4/3/2
    weights = torch.tensor([[2.0, 2 / 3, 2 / 3, 2 / 3]])
    assert torch.allclose(loss, asl1 * weights)
    assert GHMR(momentum=0.7).state_dict()["edges"][-1] == 1e3
    with pytest.raises(AssertionError, match="reduction_override"):
        GHMR()(pred, target, torch.ones(1, 4), reduction_override="avg")
