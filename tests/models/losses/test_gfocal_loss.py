"""QualityFocalLoss and DistributionFocalLoss against their formulas, written out per element."""

import math

import pytest
import torch
import torch.nn.functional as F

from detbox.models.losses import DistributionFocalLoss, QualityFocalLoss
from detbox.registry import MODELS


def qfl_by_hand(pred, labels, quality, beta=2.0):
    """Per sample, sum over classes of BCE(x, t) * |t - sigmoid(x)| ** beta, element by element."""
    rows = []
    for n in range(pred.shape[0]):
        total = 0.0
        for c in range(pred.shape[1]):
            x = float(pred[n, c])
            p = 1 / (1 + math.exp(-x))
            t = float(quality[n]) if int(labels[n]) == c else 0.0
            bce = -(t * math.log(p) + (1 - t) * math.log(1 - p))
            total += bce * abs(t - p) ** beta
        rows.append(total)
    return torch.tensor(rows)


def test_qfl_equals_its_formula_with_weights_and_avg_factor():
    torch.manual_seed(0)
    pred = torch.randn(6, 4)
    labels = torch.tensor([0, 4, 2, 4, 3, 1])  # 4 = background
    quality = torch.rand(6)
    weight = torch.rand(6)
    loss = QualityFocalLoss(beta=2.0, loss_weight=0.5)
    expected = qfl_by_hand(pred, labels, quality)
    torch.testing.assert_close(loss(pred, (labels, quality), reduction_override="none"),
                               0.5 * expected)
    torch.testing.assert_close(loss(pred, (labels, quality), weight, avg_factor=3.0),
                               0.5 * (expected * weight).sum() / 3.0)


def test_qfl_on_probabilities_equals_qfl_on_logits():
    torch.manual_seed(1)
    logits = torch.randn(5, 3)
    labels, quality = torch.tensor([1, 3, 0, 2, 3]), torch.rand(5)
    on_logits = QualityFocalLoss()(logits, (labels, quality))
    on_probs = MODELS.build(dict(type="QualityFocalLoss", activated=True))(
        logits.sigmoid(), (labels, quality))
    torch.testing.assert_close(on_logits, on_probs)


def test_qfl_rejects_a_target_that_is_not_a_pair():
    with pytest.raises(AssertionError, match="tuple"):
        QualityFocalLoss()(torch.zeros(2, 3), torch.tensor([0, 1]))
    with pytest.raises(AssertionError, match="sigmoid"):
        QualityFocalLoss(use_sigmoid=False)


def test_dfl_is_the_cross_entropy_interpolated_between_the_two_neighbours():
    torch.manual_seed(0)
    pred = torch.randn(4, 9)
    target = torch.tensor([0.0, 2.25, 5.5, 7.9])
    log_p = F.log_softmax(pred, dim=1)
    expected = torch.stack([-(log_p[i, int(t)] * (int(t) + 1 - t) + log_p[i, int(t) + 1]
                              * (t - int(t))) for i, t in enumerate(target.tolist())])
    loss = DistributionFocalLoss(loss_weight=0.25)
    torch.testing.assert_close(loss(pred, target, reduction_override="none"), 0.25 * expected)
    torch.testing.assert_close(loss(pred, target, avg_factor=4.0), 0.25 * expected.sum() / 4)
    # an integer target is the plain cross-entropy of its bin
    torch.testing.assert_close(loss(pred[:1], target[:1], reduction_override="sum"),
                               0.25 * F.cross_entropy(pred[:1], torch.tensor([0])))
