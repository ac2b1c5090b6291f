"""Sigmoid focal loss (``type='FocalLoss'``), in pure torch.

Per class ``c`` with logit ``x``, ``p = sigmoid(x)`` and target ``t`` (1 for the labelled class,
else 0)::

    loss = BCE(x, t) * (alpha * t + (1 - alpha) * (1 - t)) * pt ** gamma,
    pt = (1 - p) * t + p * (1 - t)

Labels are class indices in ``[0, C]``; ``C`` (the background) gives an all-zero target row.
This is the formula MMDetection v2 runs on CPU (``py_sigmoid_focal_loss``); mmcv's compiled
CUDA kernel computes the same quantity.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from detbox.registry import MODELS

from .utils import resolve_reduction, weight_reduce_loss

__all__ = ["FocalLoss", "sigmoid_focal_loss", "py_focal_loss_with_prob"]


def _reshape_weight(weight: Tensor | None, loss: Tensor) -> Tensor | None:
    """Per-sample ``[N]`` (or flattened ``[N * C]``) weights shaped to broadcast on ``[N, C]``."""
    if weight is None:
        return None
    if weight.shape != loss.shape:
        if weight.size(0) == loss.size(0):
            weight = weight.view(-1, 1)
        else:
            if weight.numel() != loss.numel():
                raise AssertionError(f"focal loss weight {tuple(weight.shape)} does not fit "
                                     f"the loss {tuple(loss.shape)}")
            weight = weight.view(loss.size(0), -1)
    if weight.ndim != loss.ndim:
        raise AssertionError(f"focal loss weight {tuple(weight.shape)} does not fit the loss "
                             f"{tuple(loss.shape)}")
    return weight


def _onehot_targets(target: Tensor, num_classes: int) -> Tensor:
    """``Tensor[N]`` labels in ``[0, C]`` to ``Tensor[N, C]`` one-hot rows (label C: zeros)."""
    return F.one_hot(target, num_classes=num_classes + 1)[:, :num_classes]


def sigmoid_focal_loss(pred: Tensor, target: Tensor, weight: Tensor | None = None,
                       gamma: float = 2.0, alpha: float = 0.25, reduction: str = "mean",
                       avg_factor: float | None = None) -> Tensor:
    """Focal loss of logits.

    Args:
        pred: ``Tensor[N, C]`` logits.
        target: ``Tensor[N]`` int64 labels in ``[0, C]`` (``C`` = background), or
            ``Tensor[N, C]`` binary targets.
        weight: ``Tensor[N]``, ``Tensor[N, C]`` or flattened ``Tensor[N * C]`` weights.
        gamma: focusing exponent.
        alpha: weight of the positive term (``1 - alpha`` for the negative term).
        reduction: ``'none'``, ``'mean'`` or ``'sum'``.
        avg_factor: divisor of the mean instead of the element count.
    """
    if target.dim() == 1 and pred.dim() == 2:
        target = _onehot_targets(target, pred.size(1))
    pred_sigmoid = pred.sigmoid()
    target = target.type_as(pred)
    pt = (1 - pred_sigmoid) * target + pred_sigmoid * (1 - target)
    focal_weight = (alpha * target + (1 - alpha) * (1 - target)) * pt.pow(gamma)
    loss = F.binary_cross_entropy_with_logits(pred, target, reduction="none") * focal_weight
    return weight_reduce_loss(loss, _reshape_weight(weight, loss), reduction, avg_factor)


def py_focal_loss_with_prob(pred: Tensor, target: Tensor, weight: Tensor | None = None,
                            gamma: float = 2.0, alpha: float = 0.25, reduction: str = "mean",
                            avg_factor: float | None = None) -> Tensor:
    """Focal loss of probabilities (``activated=True``): ``pred`` is ``sigmoid(logits)``.

    Arguments as for :func:`sigmoid_focal_loss`; ``target`` holds labels in ``[0, C]``.
    """
    target = _onehot_targets(target, pred.size(1)).type_as(pred)
    pt = (1 - pred) * target + pred * (1 - target)
    focal_weight = (alpha * target + (1 - alpha) * (1 - target)) * pt.pow(gamma)
    loss = F.binary_cross_entropy(pred, target, reduction="none") * focal_weight
    return weight_reduce_loss(loss, _reshape_weight(weight, loss), reduction, avg_factor)


@MODELS.register_module()
class FocalLoss(nn.Module):
    """Sigmoid focal loss of `RetinaNet <https://arxiv.org/abs/1708.02002>`_.

    Args:
        use_sigmoid: must be True (only the sigmoid form exists).
        gamma: focusing exponent.
        alpha: weight of the positive term.
        reduction: ``'none'``, ``'mean'`` or ``'sum'``.
        loss_weight: multiplies the loss.
        activated: the predictions are already probabilities, not logits.
    """

    def __init__(self, use_sigmoid: bool = True, gamma: float = 2.0, alpha: float = 0.25,
                 reduction: str = "mean", loss_weight: float = 1.0,
                 activated: bool = False) -> None:
        super().__init__()
        if use_sigmoid is not True:
            raise AssertionError("Only sigmoid focal loss supported now.")
        self.use_sigmoid = use_sigmoid
        self.gamma = gamma
        self.alpha = alpha
        self.reduction = reduction
        self.loss_weight = loss_weight
        self.activated = activated

    def forward(self, pred: Tensor, target: Tensor, weight: Tensor | None = None,
                avg_factor: float | None = None,
                reduction_override: str | None = None) -> Tensor:
        """Loss of ``pred`` (``Tensor[N, C]``) against labels ``target`` (``Tensor[N]``, C = bg).

        ``weight`` is per sample (``[N]``) or per element; ``avg_factor`` replaces the element
        count of the mean (heads pass the number of positives).
        """
        reduction = resolve_reduction(self.reduction, reduction_override)
        loss_func = py_focal_loss_with_prob if self.activated else sigmoid_focal_loss
        return self.loss_weight * loss_func(pred, target, weight, gamma=self.gamma,
                                            alpha=self.alpha, reduction=reduction,
                                            avg_factor=avg_factor)
