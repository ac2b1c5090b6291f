"""Generalized Focal Loss (Li et al., 2020): ``QualityFocalLoss`` and ``DistributionFocalLoss``.

QFL trains a joint class-and-quality score. For logits ``x`` (``p = sigmoid(x)``) every class
is pushed to 0 with weight ``p ** beta``; at a positive's class the target is its quality
``q`` (an IoU or an alignment metric) and the weight ``|q - p| ** beta``::

    loss[n] = sum_c BCE(x[n, c], t[n, c]) * |t[n, c] - p[n, c]| ** beta

DFL trains a discrete distribution over ``{0, ..., n}`` for a continuous target ``y`` by the
cross-entropy on its two neighbours, weighted by closeness:
``CE(y_l) * (y_r - y) + CE(y_r) * (y - y_l)`` with ``y_l = floor(y)``, ``y_r = y_l + 1``.

>>> import torch
>>> pred = torch.zeros(1, 3)  # p = 0.5 everywhere
>>> labels, quality = torch.tensor([1]), torch.tensor([0.5])
>>> # the positive's class sits at its target: only the two negatives cost ln2 / 4 each
>>> loss = quality_focal_loss(pred, (labels, quality), reduction='sum')
>>> round(loss.item(), 4), round(2 * 0.6931 / 4, 4)
(0.3466, 0.3466)
>>> dfl = distribution_focal_loss(torch.tensor([[0.0, 0.0]]), torch.tensor([0.25]))
>>> round(dfl.item(), 4)  # a uniform distribution: ln2 whatever the target
0.6931
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from detbox.registry import MODELS

from .utils import resolve_reduction, weighted_loss

__all__ = ["QualityFocalLoss", "DistributionFocalLoss", "quality_focal_loss",
           "quality_focal_loss_with_prob", "distribution_focal_loss"]


def _qfl(pred: Tensor, prob: Tensor, target: tuple[Tensor, Tensor], beta: float,
         bce: callable) -> Tensor:
    """QFL ``Tensor[N]`` given ``pred`` as the BCE sees it and its probabilities ``prob``."""
    if not isinstance(target, (tuple, list)) or len(target) != 2:
        raise AssertionError("QualityFocalLoss: the target must be a tuple (labels [N], "
                             "quality scores [N])")
    label, score = target
    loss = bce(pred, prob.new_zeros(pred.shape), reduction="none") * prob.pow(beta)
    num_classes = pred.size(1)
    pos = ((label >= 0) & (label < num_classes)).nonzero().squeeze(1)
    pos_label = label[pos].long()
    modulation = (score[pos] - prob[pos, pos_label]).abs().pow(beta)
    loss[pos, pos_label] = bce(pred[pos, pos_label], score[pos], reduction="none") * modulation
    return loss.sum(dim=1)


@weighted_loss
def quality_focal_loss(pred: Tensor, target: tuple[Tensor, Tensor], beta: float = 2.0) -> Tensor:
    """QFL of logits ``pred: Tensor[N, C]``; ``target = (labels [N] in [0, C], quality [N])``.

    Returns the weighted, reduced loss (``weight``, ``reduction``, ``avg_factor`` keywords).
    """
    return _qfl(pred, pred.sigmoid(), target, beta, F.binary_cross_entropy_with_logits)


@weighted_loss
def quality_focal_loss_with_prob(pred: Tensor, target: tuple[Tensor, Tensor],
                                 beta: float = 2.0) -> Tensor:
    """QFL of probabilities ``pred: Tensor[N, C]`` (``activated=True``, e.g. TOOD)."""
    return _qfl(pred, pred, target, beta, F.binary_cross_entropy)


@weighted_loss
def distribution_focal_loss(pred: Tensor, label: Tensor) -> Tensor:
    """DFL of distribution logits ``pred: Tensor[N, n + 1]`` for targets ``label: Tensor[N]``
    in ``[0, n)``; returns ``Tensor[N]`` before weighting."""
    dis_left = label.long()
    dis_right = dis_left + 1
    weight_left = dis_right.float() - label
    weight_right = label - dis_left.float()
    return (F.cross_entropy(pred, dis_left, reduction="none") * weight_left
            + F.cross_entropy(pred, dis_right, reduction="none") * weight_right)


@MODELS.register_module()
class QualityFocalLoss(nn.Module):
    """Quality Focal Loss.

    Args:
        use_sigmoid: must be True (only the sigmoid form exists).
        beta: exponent of the modulating factor.
        reduction: ``'none'``, ``'mean'`` or ``'sum'``.
        loss_weight: multiplies the loss.
        activated: the predictions are probabilities already, not logits.
    """

    def __init__(self, use_sigmoid: bool = True, beta: float = 2.0, reduction: str = "mean",
                 loss_weight: float = 1.0, activated: bool = False) -> None:
        super().__init__()
        if use_sigmoid is not True:
            raise AssertionError("Only sigmoid in QFL supported now.")
        self.use_sigmoid = use_sigmoid
        self.beta = beta
        self.reduction = reduction
        self.loss_weight = loss_weight
        self.activated = activated

    def forward(self, pred: Tensor, target: tuple[Tensor, Tensor], weight: Tensor | None = None,
                avg_factor: float | None = None,
                reduction_override: str | None = None) -> Tensor:
        """Loss of ``pred: Tensor[N, C]`` against ``(labels [N], quality [N])``; ``weight [N]``."""
        reduction = resolve_reduction(self.reduction, reduction_override)
        loss_func = quality_focal_loss_with_prob if self.activated else quality_focal_loss
        return self.loss_weight * loss_func(pred, target, weight, beta=self.beta,
                                            reduction=reduction, avg_factor=avg_factor)


@MODELS.register_module()
class DistributionFocalLoss(nn.Module):
    """Distribution Focal Loss.

    Args:
        reduction: ``'none'``, ``'mean'`` or ``'sum'``.
        loss_weight: multiplies the loss.
    """

    def __init__(self, reduction: str = "mean", loss_weight: float = 1.0) -> None:
        super().__init__()
        self.reduction = reduction
        self.loss_weight = loss_weight

    def forward(self, pred: Tensor, target: Tensor, weight: Tensor | None = None,
                avg_factor: float | None = None,
                reduction_override: str | None = None) -> Tensor:
        """Loss of ``pred: Tensor[N, n + 1]`` (logits) against ``target: Tensor[N]``."""
        reduction = resolve_reduction(self.reduction, reduction_override)
        return self.loss_weight * distribution_focal_loss(pred, target, weight,
                                                          reduction=reduction,
                                                          avg_factor=avg_factor)
