"""Mean squared error (``type='MSELoss'``): ``(pred - target) ** 2``, weighted and reduced."""

from __future__ import annotations

from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn

from detbox.registry import MODELS

from .utils import resolve_reduction, weighted_loss

__all__ = ["MSELoss", "mse_loss"]


@weighted_loss
def mse_loss(pred: Tensor, target: Tensor) -> Tensor:
    """Element-wise squared error of same-shaped ``pred`` and ``target``."""
    return F.mse_loss(pred, target, reduction="none")


@MODELS.register_module()
class MSELoss(nn.Module):
    """Mean squared error loss.

    Args:
        reduction: ``'none'``, ``'mean'`` or ``'sum'``.
        loss_weight: multiplies the loss.
    """

    def __init__(self, reduction: str = "mean", loss_weight: float = 1.0) -> None:
        super().__init__()
        self.reduction = reduction
        self.loss_weight = loss_weight

    def forward(self, pred: Tensor, target: Tensor, weight: Tensor | None = None,
                avg_factor: float | None = None, reduction_override: str | None = None,
                **kwargs: Any) -> Tensor:
        """Loss of ``pred`` against ``target`` (same shape)."""
        reduction = resolve_reduction(self.reduction, reduction_override)
        return self.loss_weight * mse_loss(pred, target, weight, reduction=reduction,
                                           avg_factor=avg_factor)
