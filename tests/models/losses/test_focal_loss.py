"""FocalLoss: hand-computed sigmoid focal loss with class-index labels (C = background)."""

import math

import pytest
import torch

from detbox.models.losses import FocalLoss
from detbox.registry import MODELS

EPS = torch.finfo(torch.float32).eps


def softplus(x):
    return math.log1p(math.exp(x))


def focal(x, t, gamma=2.0, alpha=0.25):
    p = 1 / (1 + math.exp(-x))
    bce = softplus(-x) if t else softplus(x)
    pt = 1 - p if t else p
    return bce * (alpha if t else 1 - alpha) * pt**gamma


def test_by_hand():
    pred = torch.tensor([[0.0, 2.0], [1.0, -1.0]])
    labels = torch.tensor([1, 2])  # row 1 is background: both classes negative
    elems = torch.tensor([[focal(0.0, 0), focal(2.0, 1)], [focal(1.0, 0), focal(-1.0, 0)]])
    loss = FocalLoss(reduction="none")
    torch.testing.assert_close(loss(pred, labels), elems)
    assert FocalLoss()(pred, labels).item() == pytest.approx(elems.mean().item(), rel=1e-6)
    assert FocalLoss()(pred, labels, avg_factor=1).item() == pytest.approx(
        elems.sum().item() / (1 + EPS), rel=1e-6)
    gamma0 = FocalLoss(gamma=0.0, alpha=0.5, reduction="sum")(pred, labels)
    assert gamma0.item() == pytest.approx(
        sum(0.5 * v for v in (softplus(0), softplus(-2), softplus(1), softplus(-1))), rel=1e-6)


def test_weights_per_sample_and_per_element():
    pred = torch.tensor([[0.0, 2.0], [1.0, -1.0]])
    labels = torch.tensor([1, 0])
    full = FocalLoss(reduction="none")(pred, labels)
    per_sample = FocalLoss(reduction="sum")(pred, labels, torch.tensor([0.0, 1.0]))
    assert per_sample.item() == pytest.approx(full[1].sum().item(), rel=1e-6)
    flat = torch.tensor([1.0, 0.0, 0.0, 1.0])  # (N * C,) flattened, as FSAF passes
    per_elem = FocalLoss(reduction="sum")(pred, labels, flat)
    assert per_elem.item() == pytest.approx((full[0, 0] + full[1, 1]).item(), rel=1e-6)


def test_activated_probabilities():
    probs = torch.sigmoid(torch.tensor([[0.0, 2.0], [1.0, -1.0]]))
    labels = torch.tensor([1, 2])
    torch.testing.assert_close(FocalLoss(activated=True, reduction="none")(probs, labels),
                               FocalLoss(reduction="none")(torch.logit(probs), labels))


def test_build_and_use_sigmoid_only():
    loss = MODELS.build(dict(type="FocalLoss", use_sigmoid=True, gamma=2.0, alpha=0.25,
                             loss_weight=1.0))
    assert loss.gamma == 2.0
    with pytest.raises(AssertionError, match="sigmoid"):
        FocalLoss(use_sigmoid=False)
