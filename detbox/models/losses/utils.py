"""Loss reduction helpers of MMDetection v2: element-wise weights, reduction and ``avg_factor``.

>>> @weighted_loss
... def l1(pred, target):
...     return (pred - target).abs()
>>> pred, target = torch.tensor([0.0, 2.0, 3.0]), torch.tensor([1.0, 1.0, 1.0])
>>> l1(pred, target)
tensor(1.3333)
>>> l1(pred, target, torch.tensor([1.0, 0.0, 1.0]), avg_factor=2)
tensor(1.5000)
>>> l1(pred, target, reduction='none')
tensor([1., 1., 2.])
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import torch
from torch import Tensor

__all__ = ["reduce_loss", "weight_reduce_loss", "weighted_loss", "REDUCTIONS"]

REDUCTIONS = ("none", "mean", "sum")


def check_reduction(reduction: str | None, allow_none: bool = False) -> None:
    """Raise unless ``reduction`` is ``'none'``, ``'mean'``, ``'sum'`` (or allowed ``None``)."""
    if reduction is None and allow_none:
        return
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")


def reduce_loss(loss: Tensor, reduction: str) -> Tensor:
    """Reduce an element-wise loss: ``'none'`` keeps it, ``'mean'`` averages, ``'sum'`` sums."""
    check_reduction(reduction)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def weight_reduce_loss(loss: Tensor, weight: Tensor | None = None, reduction: str = "mean",
                       avg_factor: float | Tensor | None = None) -> Tensor:
    """Weight an element-wise loss, then reduce it.

    Args:
        loss: element-wise loss.
        weight: element-wise weights, broadcastable to ``loss``.
        reduction: ``'none'``, ``'mean'`` or ``'sum'``.
        avg_factor: with ``'mean'``, divide the sum by ``avg_factor + eps`` (float32 eps)
            instead of averaging over the elements; with ``'none'`` it is ignored; with
            ``'sum'`` it is an error.

    Returns:
        The weighted loss, reduced.
    """
    if weight is not None:
        loss = loss * weight
    if avg_factor is None:
        return reduce_loss(loss, reduction)
    if reduction == "mean":
        # eps keeps an all-ignored batch (avg_factor 0) from dividing by zero
        return loss.sum() / (avg_factor + torch.finfo(torch.float32).eps)
    if reduction != "none":
        raise ValueError('avg_factor can not be used with reduction="sum"')
    return loss


def weighted_loss(loss_func: Callable[..., Tensor]) -> Callable[..., Tensor]:
    """Turn ``loss_func(pred, target, **kwargs)`` (element-wise) into a weighted, reduced loss.

    The wrapped function is ``f(pred, target, weight=None, reduction='mean',
    avg_factor=None, **kwargs)``; see :func:`weight_reduce_loss`.
    """

    @functools.wraps(loss_func)
    def wrapper(pred: Tensor, target: Tensor, weight: Tensor | None = None,
                reduction: str = "mean", avg_factor: float | Tensor | None = None,
                **kwargs: Any) -> Tensor:
        loss = loss_func(pred, target, **kwargs)
        return weight_reduce_loss(loss, weight, reduction, avg_factor)

    return wrapper


def resolve_reduction(default: str, reduction_override: str | None) -> str:
    """The reduction a loss module uses: ``reduction_override`` if set, else ``default``."""
    check_reduction(reduction_override, allow_none=True)
    return reduction_override if reduction_override else default
