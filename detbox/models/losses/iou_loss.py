"""IoU-based box regression losses of MMDetection v2: IoU, GIoU, DIoU, CIoU and Bounded IoU.

All take aligned ``xyxy`` boxes ``pred: Tensor[n, 4]`` and ``target: Tensor[n, 4]`` and give a
per-box loss ``Tensor[n]``. Their modules accept per-coordinate weights ``Tensor[n, 4]`` (averaged
to ``[n]``), and return ``(pred * weight).sum()`` (0, keeping the graph) when no weight is
positive. The Bounded IoU loss is per coordinate (``Tensor[n, 4]``, weights too).
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Callable

import torch
from torch import Tensor, nn

from detbox.ops import bbox_overlaps
from detbox.registry import MODELS

from .utils import resolve_reduction, weighted_loss

__all__ = ["IoULoss", "GIoULoss", "DIoULoss", "CIoULoss", "BoundedIoULoss", "iou_loss",
           "giou_loss", "diou_loss", "ciou_loss", "bounded_iou_loss"]

_IOU_MODES = ("linear", "square", "log")


@weighted_loss
def iou_loss(pred: Tensor, target: Tensor, linear: bool = False, mode: str = "log",
             eps: float = 1e-6) -> Tensor:
    """``-log(IoU)`` (``'log'``), ``1 - IoU`` (``'linear'``) or ``1 - IoU**2`` (``'square'``).

    The IoU is clamped to at least ``eps``; ``linear=True`` is the deprecated spelling of
    ``mode='linear'``.
    """
    if mode not in _IOU_MODES:
        raise AssertionError(f"iou_loss: mode must be one of {_IOU_MODES}, got {mode!r}")
    if linear:
        mode = "linear"
        warnings.warn('DeprecationWarning: Setting "linear=True" in iou_loss is deprecated, '
                      'please use "mode=`linear`" instead.', stacklevel=2)
    ious = bbox_overlaps(pred, target, is_aligned=True).clamp(min=eps)
    if mode == "linear":
        return 1 - ious
    if mode == "square":
        return 1 - ious**2
    return -ious.log()


@weighted_loss
def giou_loss(pred: Tensor, target: Tensor, eps: float = 1e-7) -> Tensor:
    """``1 - GIoU`` (`Rezatofighi et al. <https://arxiv.org/abs/1902.09630>`_)."""
    return 1 - bbox_overlaps(pred, target, mode="giou", is_aligned=True, eps=eps)


def _iou_and_center_distance(pred: Tensor, target: Tensor,
                             eps: float) -> tuple[Tensor, Tensor, Tensor]:
    """IoU (union + eps), squared center distance and squared enclosing diagonal (+ eps)."""
    lt = torch.max(pred[:, :2], target[:, :2])
    rb = torch.min(pred[:, 2:], target[:, 2:])
    wh = (rb - lt).clamp(min=0)
    overlap = wh[:, 0] * wh[:, 1]
    ap = (pred[:, 2] - pred[:, 0]) * (pred[:, 3] - pred[:, 1])
    ag = (target[:, 2] - target[:, 0]) * (target[:, 3] - target[:, 1])
    union = ap + ag - overlap + eps
    ious = overlap / union

    enclose_x1y1 = torch.min(pred[:, :2], target[:, :2])
    enclose_x2y2 = torch.max(pred[:, 2:], target[:, 2:])
    enclose_wh = (enclose_x2y2 - enclose_x1y1).clamp(min=0)
    c2 = enclose_wh[:, 0]**2 + enclose_wh[:, 1]**2 + eps

    left = ((target[:, 0] + target[:, 2]) - (pred[:, 0] + pred[:, 2]))**2 / 4
    right = ((target[:, 1] + target[:, 3]) - (pred[:, 1] + pred[:, 3]))**2 / 4
    return ious, left + right, c2


@weighted_loss
def diou_loss(pred: Tensor, target: Tensor, eps: float = 1e-7) -> Tensor:
    """``1 - DIoU`` with ``DIoU = IoU - d**2 / c**2`` (`Zheng et al. <https://arxiv.org/abs/1911.08287>`_).

    ``d`` is the distance between the centers, ``c`` the diagonal of the enclosing box.
    """
    ious, rho2, c2 = _iou_and_center_distance(pred, target, eps)
    return 1 - (ious - rho2 / c2)


@weighted_loss
def ciou_loss(pred: Tensor, target: Tensor, eps: float = 1e-7) -> Tensor:
    """``1 - CIoU`` (`Zheng et al. <https://arxiv.org/abs/2005.03572>`_), CIoU clamped to [-1, 1].

    ``CIoU = IoU - (d**2 / c**2 + alpha * v)`` with the aspect term
    ``v = 4 / pi**2 * (atan(w_t / h_t) - atan(w_p / h_p))**2`` and
    ``alpha = [IoU > 0.5] * v / (1 - IoU + v)`` (no gradient through ``alpha``).
    """
    ious, rho2, c2 = _iou_and_center_distance(pred, target, eps)
    w1, h1 = pred[:, 2] - pred[:, 0], pred[:, 3] - pred[:, 1] + eps
    w2, h2 = target[:, 2] - target[:, 0], target[:, 3] - target[:, 1] + eps
    v = (4 / math.pi**2) * torch.pow(torch.atan(w2 / h2) - torch.atan(w1 / h1), 2)
    with torch.no_grad():
        alpha = (ious > 0.5).float() * v / (1 - ious + v)
    cious = ious - (rho2 / c2 + alpha * v)
    return 1 - cious.clamp(min=-1.0, max=1.0)


@weighted_loss
def bounded_iou_loss(pred: Tensor, target: Tensor, beta: float = 0.2,
                     eps: float = 1e-3) -> Tensor:
    """Bounded IoU loss (`Tychsen-Smith and Petersson <https://arxiv.org/abs/1711.00164>`_).

    Each box is compared through four terms that bound its IoU with the target: the center
    offsets ``1 - max((w_t - 2|dx|) / (w_t + 2|dx| + eps), 0)`` (and for ``y``) and the size
    ratios ``1 - min(w_t / (w_p + eps), w_p / (w_t + eps))`` (and for ``h``); each term goes
    through a smooth L1 with ``beta``. No gradient flows into the target.

    Args:
        pred: ``Tensor[n, 4]`` predicted xyxy boxes.
        target: ``Tensor[n, 4]`` target xyxy boxes.
        beta: smooth L1 threshold.
        eps: keeps the ratios finite.

    Returns:
        ``Tensor[n, 4]``: the ``dx, dy, dw, dh`` losses of each box.
    """
    pred_cx = (pred[:, 0] + pred[:, 2]) * 0.5
    pred_cy = (pred[:, 1] + pred[:, 3]) * 0.5
    pred_w = pred[:, 2] - pred[:, 0]
    pred_h = pred[:, 3] - pred[:, 1]
    with torch.no_grad():
        target_cx = (target[:, 0] + target[:, 2]) * 0.5
        target_cy = (target[:, 1] + target[:, 3]) * 0.5
        target_w = target[:, 2] - target[:, 0]
        target_h = target[:, 3] - target[:, 1]
    dx = (target_cx - pred_cx).abs()
    dy = (target_cy - pred_cy).abs()
    zeros = torch.zeros_like(dx)
    loss_dx = 1 - torch.max((target_w - 2 * dx) / (target_w + 2 * dx + eps), zeros)
    loss_dy = 1 - torch.max((target_h - 2 * dy) / (target_h + 2 * dy + eps), zeros)
    loss_dw = 1 - torch.min(target_w / (pred_w + eps), pred_w / (target_w + eps))
    loss_dh = 1 - torch.min(target_h / (pred_h + eps), pred_h / (target_h + eps))
    terms = torch.stack([loss_dx, loss_dy, loss_dw, loss_dh], dim=-1).flatten(1)  # [n, 4]
    return torch.where(terms < beta, 0.5 * terms * terms / beta, terms - 0.5 * beta)


class _BoxLoss(nn.Module):
    """Shared forward of the IoU-family losses."""

    # reductions for which an all-zero weight returns ``(pred * weight).sum()`` right away
    _zero_weight_shortcut: tuple[str, ...] = ("none", "mean", "sum")

    def __init__(self, eps: float = 1e-6, reduction: str = "mean",
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        self.eps = eps
        self.reduction = reduction
        self.loss_weight = loss_weight

    def _loss_fn(self) -> tuple[Callable[..., Tensor], dict[str, Any]]:
        raise NotImplementedError

    def forward(self, pred: Tensor, target: Tensor, weight: Tensor | None = None,
                avg_factor: float | None = None, reduction_override: str | None = None,
                **kwargs: Any) -> Tensor:
        """Loss of aligned boxes ``pred`` and ``target`` (``Tensor[n, 4]`` xyxy).

        Args:
            pred: predicted boxes.
            target: target boxes.
            weight: ``Tensor[n]`` or ``Tensor[n, 4]`` (averaged over the 4 coordinates).
            avg_factor: divisor of the mean instead of ``n``.
            reduction_override: replaces the module's reduction.
        """
        reduction = resolve_reduction(self.reduction, reduction_override)
        if (weight is not None and not torch.any(weight > 0)
                and reduction in self._zero_weight_shortcut):
            if pred.dim() == weight.dim() + 1:
                weight = weight.unsqueeze(1)
            return (pred * weight).sum()
        if weight is not None and weight.dim() > 1:
            if weight.shape != pred.shape:
                raise AssertionError(f"weight {tuple(weight.shape)} must be (n,) or match pred "
                                     f"{tuple(pred.shape)}")
            weight = weight.mean(-1)
        loss_fn, extra = self._loss_fn()
        return self.loss_weight * loss_fn(pred, target, weight, reduction=reduction,
                                          avg_factor=avg_factor, **extra, **kwargs)


@MODELS.register_module()
class IoULoss(_BoxLoss):
    """IoU loss (``-log IoU`` by default).

    Args:
        linear: deprecated; True means ``mode='linear'``.
        eps: lower bound of the IoU.
        reduction: ``'none'``, ``'mean'`` or ``'sum'``.
        loss_weight: multiplies the loss.
        mode: ``'log'``, ``'linear'`` or ``'square'``.
    """

    _zero_weight_shortcut = ("mean", "sum")  # v2's IoULoss computes the 'none' loss anyway

    def __init__(self, linear: bool = False, eps: float = 1e-6, reduction: str = "mean",
                 loss_weight: float = 1.0, mode: str = "log") -> None:
        super().__init__(eps=eps, reduction=reduction, loss_weight=loss_weight)
        if mode not in _IOU_MODES:
            raise AssertionError(f"IoULoss: mode must be one of {_IOU_MODES}, got {mode!r}")
        if linear:
            mode = "linear"
            warnings.warn('DeprecationWarning: Setting "linear=True" in IOULoss is '
                          'deprecated, please use "mode=`linear`" instead.', stacklevel=2)
        self.mode = mode
        self.linear = linear

    def _loss_fn(self) -> tuple[Callable[..., Tensor], dict[str, Any]]:
        return iou_loss, dict(mode=self.mode, eps=self.eps)


@MODELS.register_module()
class GIoULoss(_BoxLoss):
    """Generalized IoU loss ``1 - GIoU``.

    Args:
        eps: lower bound of the union and the enclosing area.
        reduction: ``'none'``, ``'mean'`` or ``'sum'``.
        loss_weight: multiplies the loss.
    """

    def _loss_fn(self) -> tuple[Callable[..., Tensor], dict[str, Any]]:
        return giou_loss, dict(eps=self.eps)


@MODELS.register_module()
class DIoULoss(_BoxLoss):
    """Distance IoU loss ``1 - DIoU``.

    Args:
        eps: added to the union and to the squared enclosing diagonal.
        reduction: ``'none'``, ``'mean'`` or ``'sum'``.
        loss_weight: multiplies the loss.
    """

    def _loss_fn(self) -> tuple[Callable[..., Tensor], dict[str, Any]]:
        return diou_loss, dict(eps=self.eps)


@MODELS.register_module()
class CIoULoss(_BoxLoss):
    """Complete IoU loss ``1 - CIoU``.

    Args:
        eps: added to the union, the squared enclosing diagonal and the heights.
        reduction: ``'none'``, ``'mean'`` or ``'sum'``.
        loss_weight: multiplies the loss.
    """

    def _loss_fn(self) -> tuple[Callable[..., Tensor], dict[str, Any]]:
        return ciou_loss, dict(eps=self.eps)


@MODELS.register_module()
class BoundedIoULoss(nn.Module):
    """Bounded IoU loss (Guided Anchoring's anchor shape loss), see :func:`bounded_iou_loss`.

    Args:
        beta: smooth L1 threshold of the four terms.
        eps: keeps the ratios finite.
        reduction: ``'none'``, ``'mean'`` or ``'sum'``.
        loss_weight: multiplies the loss.
    """

    def __init__(self, beta: float = 0.2, eps: float = 1e-3, reduction: str = "mean",
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        self.beta = beta
        self.eps = eps
        self.reduction = reduction
        self.loss_weight = loss_weight

    def forward(self, pred: Tensor, target: Tensor, weight: Tensor | None = None,
                avg_factor: float | None = None, reduction_override: str | None = None,
                **kwargs: Any) -> Tensor:
        """Loss of aligned boxes ``pred`` and ``target`` (``Tensor[n, 4]`` xyxy).

        Args:
            pred: predicted boxes.
            target: target boxes.
            weight: ``Tensor[n, 4]`` per-coordinate weights (or ``Tensor[n]``).
            avg_factor: divisor of the mean instead of ``4 n``.
            reduction_override: replaces the module's reduction.

        Returns:
            The loss; ``(pred * weight).sum()`` (0 with the graph kept) when no weight is
            positive.
        """
        if weight is not None and not torch.any(weight > 0):
            if pred.dim() == weight.dim() + 1:
                weight = weight.unsqueeze(1)
            return (pred * weight).sum()
        reduction = resolve_reduction(self.reduction, reduction_override)
        if weight is not None and weight.dim() == 1:
            weight = weight[:, None]
        return self.loss_weight * bounded_iou_loss(
            pred, target, weight, beta=self.beta, eps=self.eps, reduction=reduction,
            avg_factor=avg_factor, **kwargs)
