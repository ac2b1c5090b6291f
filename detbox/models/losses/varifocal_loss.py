"""Varifocal Loss (Zhang et al., 2021; ``type='VarifocalLoss'``), in pure torch.

For logits ``x`` (``p = sigmoid(x)``) and IoU-aware targets ``q`` (the IoU at a positive's
class, 0 elsewhere)::

    loss = BCE(x, q) * (q                     where q > 0   (1 if not iou_weighted)
                        alpha * |p - q| ** gamma  where q <= 0)

Positives are not down-weighted (only negatives are, focal-style).

>>> import torch
>>> pred, target = torch.zeros(1, 2), torch.tensor([[0.5, 0.0]])
>>> loss = varifocal_loss(pred, target, reduction='none')
>>> [round(v, 4) for v in loss[0].tolist()]  # 0.5 * ln2 and 0.75 * 0.25 * ln2
[0.3466, 0.13]
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from detbox.registry import MODELS

from .utils import resolve_reduction, weight_reduce_loss

__all__ = ["VarifocalLoss", "varifocal_loss"]


def varifocal_loss(pred: Tensor, target: Tensor, weight: Tensor | None = None,
                   alpha: float = 0.75, gamma: float = 2.0, iou_weighted: bool = True,
                   reduction: str = "mean", avg_factor: float | None = None) -> Tensor:
    """Varifocal loss.

    Args:
        pred: ``Tensor[N, C]`` logits.
        target: ``Tensor[N, C]`` IoU-aware targets in ``[0, 1]``.
        weight: element-wise weights broadcastable to ``[N, C]``.
        alpha: weight of the negative term.
        gamma: focusing exponent of the negative term.
        iou_weighted: weight positives by their target ``q`` (else by 1).
        reduction: ``'none'``, ``'mean'`` or ``'sum'``.
        avg_factor: divisor of the mean instead of the element count.
    """
    if pred.size() != target.size():
        raise AssertionError(f"varifocal_loss: pred {tuple(pred.shape)} and target "
                             f"{tuple(target.shape)} must have the same shape")
    pred_sigmoid = pred.sigmoid()
    target = target.type_as(pred)
    positive = (target > 0.0).float()
    negative_weight = alpha * (pred_sigmoid - target).abs().pow(gamma) * (target <= 0.0).float()
    focal_weight = (target * positive if iou_weighted else positive) + negative_weight
    loss = F.binary_cross_entropy_with_logits(pred, target, reduction="none") * focal_weight
    return weight_reduce_loss(loss, weight, reduction, avg_factor)


@MODELS.register_module()
class VarifocalLoss(nn.Module):
    """Varifocal loss of `VarifocalNet <https://arxiv.org/abs/2008.13367>`_.

    Args:
        use_sigmoid: must be True (only the sigmoid form exists).
        alpha: weight of the negative term (``>= 0``).
        gamma: focusing exponent of the negative term.
        iou_weighted: weight positives by their IoU target.
        reduction: ``'none'``, ``'mean'`` or ``'sum'``.
        loss_weight: multiplies the loss.
    """

    def __init__(self, use_sigmoid: bool = True, alpha: float = 0.75, gamma: float = 2.0,
                 iou_weighted: bool = True, reduction: str = "mean",
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if use_sigmoid is not True:
            raise AssertionError("Only sigmoid varifocal loss supported now.")
        if alpha < 0.0:
            raise AssertionError(f"VarifocalLoss: alpha must be >= 0, got {alpha}")
        self.use_sigmoid = use_sigmoid
        self.alpha = alpha
        self.gamma = gamma
        self.iou_weighted = iou_weighted
        self.reduction = reduction
        self.loss_weight = loss_weight

    def forward(self, pred: Tensor, target: Tensor, weight: Tensor | None = None,
                avg_factor: float | None = None,
                reduction_override: str | None = None) -> Tensor:
        """Loss of ``pred: Tensor[N, C]`` against the IoU-aware ``target: Tensor[N, C]``."""
        reduction = resolve_reduction(self.reduction, reduction_override)
        return self.loss_weight * varifocal_loss(
            pred, target, weight, alpha=self.alpha, gamma=self.gamma,
            iou_weighted=self.iou_weighted, reduction=reduction, avg_factor=avg_factor)
