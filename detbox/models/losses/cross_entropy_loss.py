"""Cross-entropy losses of MMDetection v2 (``type='CrossEntropyLoss'``).

* softmax (default): ``F.cross_entropy`` over ``C`` logits with integer labels; labels equal to
  ``ignore_index`` (-100 by default) contribute 0;
* ``use_sigmoid=True``: per-class binary cross-entropy. Integer labels of shape ``[N]`` for
  logits ``[N, C]`` become one-hot rows; a label outside ``[0, C)`` (the background label
  ``C``) gives an all-zero row, and ignored labels get weight 0;
* ``use_mask=True``: binary cross-entropy of the mask channel of each RoI's class.

Without ``avg_non_ignore`` (v2's default), ``'mean'`` divides by all elements, ignored ones
included.
"""

from __future__ import annotations

import warnings
from typing import Any, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from detbox.registry import MODELS

from .utils import resolve_reduction, weight_reduce_loss

__all__ = ["CrossEntropyLoss", "cross_entropy", "binary_cross_entropy", "mask_cross_entropy"]


def cross_entropy(pred: Tensor, label: Tensor, weight: Tensor | None = None,
                  reduction: str = "mean", avg_factor: float | None = None,
                  class_weight: Tensor | None = None, ignore_index: int | None = -100,
                  avg_non_ignore: bool = False) -> Tensor:
    """Softmax cross-entropy.

    Args:
        pred: ``Tensor[N, C]`` logits.
        label: ``Tensor[N]`` int64 class indices.
        weight: ``Tensor[N]`` per-sample weights.
        reduction: ``'none'``, ``'mean'`` or ``'sum'``.
        avg_factor: divisor of the mean instead of the element count.
        class_weight: ``Tensor[C]`` per-class weights.
        ignore_index: label that contributes no loss (``None`` means -100).
        avg_non_ignore: with ``'mean'`` and no ``avg_factor``, average over non-ignored labels.
    """
    ignore_index = -100 if ignore_index is None else ignore_index
    loss = F.cross_entropy(pred, label, weight=class_weight, reduction="none",
                           ignore_index=ignore_index)
    if avg_factor is None and avg_non_ignore and reduction == "mean":
        avg_factor = label.numel() - (label == ignore_index).sum().item()
    if weight is not None:
        weight = weight.float()
    return weight_reduce_loss(loss, weight=weight, reduction=reduction, avg_factor=avg_factor)


def _expand_onehot_labels(labels: Tensor, label_weights: Tensor | None, label_channels: int,
                          ignore_index: int) -> tuple[Tensor, Tensor, Tensor]:
    """One-hot ``[N, C]`` labels, their ``[N, C]`` weights and the ``[N, C]`` valid mask."""
    bin_labels = labels.new_full((labels.size(0), label_channels), 0)
    valid_mask = (labels >= 0) & (labels != ignore_index)
    inds = torch.nonzero(valid_mask & (labels < label_channels), as_tuple=False)
    if inds.numel() > 0:
        bin_labels[inds, labels[inds]] = 1
    valid_mask = valid_mask.view(-1, 1).expand(labels.size(0), label_channels).float()
    if label_weights is None:
        bin_label_weights = valid_mask
    else:
        bin_label_weights = label_weights.view(-1, 1).repeat(1, label_channels)
        bin_label_weights *= valid_mask
    return bin_labels, bin_label_weights, valid_mask


def binary_cross_entropy(pred: Tensor, label: Tensor, weight: Tensor | None = None,
                         reduction: str = "mean", avg_factor: float | None = None,
                         class_weight: Tensor | None = None, ignore_index: int | None = -100,
                         avg_non_ignore: bool = False) -> Tensor:
    """Sigmoid binary cross-entropy with logits.

    Args:
        pred: ``Tensor[N, C]`` logits (or any shape matching ``label``).
        label: ``Tensor[N]`` int64 class indices (expanded to one-hot, ``C`` = background),
            or targets of ``pred``'s shape.
        weight: per-sample (``[N]``) or element-wise weights.
        reduction: ``'none'``, ``'mean'`` or ``'sum'``.
        avg_factor: divisor of the mean instead of the element count.
        class_weight: ``Tensor[C]``, used as ``pos_weight`` of the positive term.
        ignore_index: label that contributes no loss (``None`` means -100).
        avg_non_ignore: with ``'mean'`` and no ``avg_factor``, average over valid elements.
    """
    ignore_index = -100 if ignore_index is None else ignore_index
    if pred.dim() != label.dim():
        label, weight, valid_mask = _expand_onehot_labels(label, weight, pred.size(-1),
                                                          ignore_index)
    else:
        valid_mask = ((label >= 0) & (label != ignore_index)).float()
        weight = valid_mask if weight is None else weight * valid_mask
    if avg_factor is None and avg_non_ignore and reduction == "mean":
        avg_factor = valid_mask.sum().item()
    weight = weight.float()
    loss = F.binary_cross_entropy_with_logits(pred, label.float(), pos_weight=class_weight,
                                              reduction="none")
    return weight_reduce_loss(loss, weight, reduction=reduction, avg_factor=avg_factor)


def mask_cross_entropy(pred: Tensor, target: Tensor, label: Tensor, reduction: str = "mean",
                       avg_factor: float | None = None, class_weight: Tensor | None = None,
                       ignore_index: int | None = None, **kwargs: Any) -> Tensor:
    """Binary cross-entropy of each RoI's mask channel for its class (mean only).

    Args:
        pred: ``Tensor[N, C, *]`` mask logits.
        target: ``Tensor[N, *]`` binary mask targets.
        label: ``Tensor[N]`` class of each RoI (picks its channel).
        reduction: must be ``'mean'``.
        avg_factor: must be ``None``.
        class_weight: element weights of the BCE.
        ignore_index: must be ``None``.

    Returns:
        ``Tensor[1]``.
    """
    if ignore_index is not None:
        raise AssertionError("BCE loss does not support ignore_index")
    if reduction != "mean" or avg_factor is not None:
        raise AssertionError("mask_cross_entropy supports only reduction='mean' without "
                             "avg_factor")
    inds = torch.arange(0, pred.size(0), dtype=torch.long, device=pred.device)
    pred_slice = pred[inds, label].squeeze(1)
    return F.binary_cross_entropy_with_logits(pred_slice, target, weight=class_weight,
                                              reduction="mean")[None]


@MODELS.register_module()
class CrossEntropyLoss(nn.Module):
    """Softmax, sigmoid or mask cross-entropy.

    Args:
        use_sigmoid: per-class sigmoid BCE instead of softmax.
        use_mask: mask BCE (see :func:`mask_cross_entropy`); exclusive with ``use_sigmoid``.
        reduction: ``'none'``, ``'mean'`` or ``'sum'``.
        class_weight: per-class weights.
        ignore_index: label that contributes no loss (``None``: -100).
        loss_weight: multiplies the loss.
        avg_non_ignore: average over non-ignored labels only (as ``F.cross_entropy`` does).
    """

    def __init__(self, use_sigmoid: bool = False, use_mask: bool = False,
                 reduction: str = "mean", class_weight: Sequence[float] | None = None,
                 ignore_index: int | None = None, loss_weight: float = 1.0,
                 avg_non_ignore: bool = False) -> None:
        super().__init__()
        if use_sigmoid and use_mask:
            raise AssertionError("CrossEntropyLoss: use_sigmoid and use_mask are exclusive")
        self.use_sigmoid = use_sigmoid
        self.use_mask = use_mask
        self.reduction = reduction
        self.loss_weight = loss_weight
        self.class_weight = class_weight
        self.ignore_index = ignore_index
        self.avg_non_ignore = avg_non_ignore
        if ignore_index is not None and not avg_non_ignore and reduction == "mean":
            warnings.warn("Default ``avg_non_ignore`` is False: the mean counts ignored labels "
                          "too. Set ``avg_non_ignore=True`` to average over non-ignored labels "
                          "like F.cross_entropy.", stacklevel=2)
        if use_sigmoid:
            self.cls_criterion = binary_cross_entropy
        elif use_mask:
            self.cls_criterion = mask_cross_entropy
        else:
            self.cls_criterion = cross_entropy

    def extra_repr(self) -> str:
        return f"avg_non_ignore={self.avg_non_ignore}"

    def forward(self, cls_score: Tensor, label: Tensor, weight: Tensor | None = None,
                avg_factor: float | None = None, reduction_override: str | None = None,
                ignore_index: int | None = None, **kwargs: Any) -> Tensor:
        """Loss of ``cls_score`` (logits) against ``label``.

        Args:
            cls_score: ``Tensor[N, C]`` logits (``[N, C, *]`` with ``use_mask``).
            label: ``Tensor[N]`` class indices (with ``use_mask``: the mask targets, and
                the RoI classes come as the next positional argument).
            weight: per-sample weights.
            avg_factor: divisor of the mean instead of the element count.
            reduction_override: replaces the module's reduction.
            ignore_index: replaces the module's ``ignore_index`` for this call.
        """
        reduction = resolve_reduction(self.reduction, reduction_override)
        if ignore_index is None:
            ignore_index = self.ignore_index
        class_weight = (None if self.class_weight is None
                        else cls_score.new_tensor(self.class_weight, device=cls_score.device))
        return self.loss_weight * self.cls_criterion(
            cls_score, label, weight, class_weight=class_weight, reduction=reduction,
            avg_factor=avg_factor, ignore_index=ignore_index,
            avg_non_ignore=self.avg_non_ignore, **kwargs)
