"""Smooth L1 and L1 regression losses (``type='SmoothL1Loss'``, ``type='L1Loss'``).

Smooth L1 with threshold ``beta``: ``0.5 * d**2 / beta`` for ``d = |pred - target| < beta``,
else ``d - 0.5 * beta``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from detbox.registry import MODELS

from .utils import resolve_reduction, weighted_loss

__all__ = ["SmoothL1Loss", "L1Loss", "smooth_l1_loss", "l1_loss"]


def _check_shapes(pred: Tensor, target: Tensor) -> None:
    if pred.size() != target.size():
        raise AssertionError(f"pred {tuple(pred.shape)} and target {tuple(target.shape)} "
                             "differ in shape")


@weighted_loss
def smooth_l1_loss(pred: Tensor, target: Tensor, beta: float = 1.0) -> Tensor:
    """Element-wise smooth L1 loss of same-shaped ``pred`` and ``target`` (weighted/reduced)."""
    if beta <= 0:
        raise AssertionError(f"smooth_l1_loss: beta must be positive, got {beta}")
    if target.numel() == 0:
        return pred.sum() * 0
    _check_shapes(pred, target)
    diff = torch.abs(pred - target)
    return torch.where(diff < beta, 0.5 * diff * diff / beta, diff - 0.5 * beta)


@weighted_loss
def l1_loss(pred: Tensor, target: Tensor) -> Tensor:
    """Element-wise ``|pred - target|`` (weighted/reduced)."""
    if target.numel() == 0:
        return pred.sum() * 0
    _check_shapes(pred, target)
    return torch.abs(pred - target)


@MODELS.register_module()
class SmoothL1Loss(nn.Module):
    """Smooth L1 loss.

    Args:
        beta: where the loss turns from quadratic to linear.
        reduction: ``'none'``, ``'mean'`` or ``'sum'``.
        loss_weight: multiplies the loss.
    """

    def __init__(self, beta: float = 1.0, reduction: str = "mean",
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        self.beta = beta
        self.reduction = reduction
        self.loss_weight = loss_weight

    def forward(self, pred: Tensor, target: Tensor, weight: Tensor | None = None,
                avg_factor: float | None = None, reduction_override: str | None = None,
                **kwargs: Any) -> Tensor:
        """Loss of ``pred`` against ``target`` (same shape), weighted element-wise by ``weight``.

        ``avg_factor`` replaces the element count of the mean; ``reduction_override``
        replaces the module's reduction.
        """
        reduction = resolve_reduction(self.reduction, reduction_override)
        return self.loss_weight * smooth_l1_loss(pred, target, weight, beta=self.beta,
                                                 reduction=reduction, avg_factor=avg_factor,
                                                 **kwargs)


@MODELS.register_module()
class L1Loss(nn.Module):
    """L1 loss.

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
        """Loss of ``pred`` against ``target`` (same shape); arguments as for SmoothL1Loss."""
        reduction = resolve_reduction(self.reduction, reduction_override)
        return self.loss_weight * l1_loss(pred, target, weight, reduction=reduction,
                                          avg_factor=avg_factor)
