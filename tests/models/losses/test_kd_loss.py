"""KnowledgeDistillationKLDivLoss against its formula, written out per element."""

import math

import pytest
import torch

from detbox.models.losses import KnowledgeDistillationKLDivLoss, knowledge_distillation_kl_div_loss
from detbox.registry import MODELS


def kd_by_hand(pred, soft, T):
    """Per row: T^2 * mean_i q_i (log q_i - log p_i); q, p: softmax(soft / T), softmax(pred / T)."""
    rows = []
    for n in range(pred.shape[0]):
        zs = [math.exp(float(v) / T) for v in soft[n]]
        zp = [math.exp(float(v) / T) for v in pred[n]]
        q = [z / sum(zs) for z in zs]
        p = [z / sum(zp) for z in zp]
        kl = [qi * (math.log(qi) - math.log(pi)) for qi, pi in zip(q, p)]
        rows.append(T * T * sum(kl) / len(kl))
    return torch.tensor(rows)


def test_equals_its_formula_with_weights_avg_factor_and_loss_weight():
    torch.manual_seed(0)
    pred, soft = torch.randn(6, 5) * 3, torch.randn(6, 5) * 3
    weight = torch.rand(6)
    loss = MODELS.build(dict(type="KnowledgeDistillationKLDivLoss", loss_weight=0.25, T=2))
    expected = kd_by_hand(pred, soft, 2)
    torch.testing.assert_close(loss(pred, soft, reduction_override="none"), 0.25 * expected)
    torch.testing.assert_close(loss(pred, soft, weight, avg_factor=4.0),
                               0.25 * (expected * weight).sum() / 4.0)
    torch.testing.assert_close(loss(pred, soft), 0.25 * expected.mean())
    torch.testing.assert_close(loss(pred, soft, reduction_override="sum"), 0.25 * expected.sum())


def test_zero_for_the_same_logits_and_positive_otherwise():
    x = torch.randn(4, 17)
    assert float(KnowledgeDistillationKLDivLoss()(x, x)) == pytest.approx(0.0, abs=1e-6)
    assert float(KnowledgeDistillationKLDivLoss()(x, x.flip(1))) > 0.0
    # a shift of all logits of a row leaves the softmax, hence the loss, unchanged
    assert float(KnowledgeDistillationKLDivLoss()(x + 3.0, x)) == pytest.approx(0.0, abs=1e-5)


def test_the_target_is_detached_unless_asked():
    pred = torch.randn(3, 4, requires_grad=True)
    soft = torch.randn(3, 4, requires_grad=True)
    knowledge_distillation_kl_div_loss(pred, soft, T=10).backward()
    assert pred.grad is not None and soft.grad is None
    knowledge_distillation_kl_div_loss(pred, soft, T=10, detach_target=False).backward()
    assert soft.grad is not None


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="T must be >= 1"):
        KnowledgeDistillationKLDivLoss(T=0.5)
    with pytest.raises(ValueError, match=r"pred \(2, 3\) and soft_label \(2, 4\)"):
        KnowledgeDistillationKLDivLoss()(torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="reduction"):
        KnowledgeDistillationKLDivLoss()(torch.zeros(2, 3), torch.zeros(2, 3),
                                         reduction_override="max")
