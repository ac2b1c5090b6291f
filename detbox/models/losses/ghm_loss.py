"""Gradient harmonizing losses (Li et al., 2019): ``GHMC`` and ``GHMR``, MMDetection v2's.

Each element's gradient norm ``g`` (``|sigmoid(x) - t|`` for classification,
``|d / sqrt(d^2 + mu^2)|`` for the ASL1 regression loss) falls in one of ``bins`` equal bins
of ``[0, 1]``; an element's weight is ``valid count / (elements in its bin)``, divided by the
number of non-empty bins, so that crowded bins (the many easy negatives) count less. With
``momentum > 0`` the bin counts are running averages kept in the buffer ``acc_sum``. Both keep
their bin ``edges`` as a buffer (part of the state_dict, as in MMDetection).

>>> loss = GHMC(bins=10)
>>> pred = torch.tensor([[2.0, -1.0], [0.5, 0.0]])
>>> float(loss(pred, torch.tensor([0, 2]), torch.ones(2))) > 0
True
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from detbox.registry import MODELS

from .utils import weight_reduce_loss

__all__ = ["GHMC", "GHMR"]


def _expand_onehot_labels(labels: Tensor, label_weights: Tensor, label_channels: int
                          ) -> tuple[Tensor, Tensor]:
    """``Tensor[N]`` labels (``C`` = background) -> ``Tensor[N, C]`` one-hot targets and
    per-class weights."""
    bin_labels = labels.new_full((labels.size(0), label_channels), 0)
    inds = torch.nonzero((labels >= 0) & (labels < label_channels), as_tuple=False).squeeze()
    if inds.numel() > 0:
        bin_labels[inds, labels[inds]] = 1
    bin_weights = label_weights.view(-1, 1).expand(label_weights.size(0), label_channels)
    return bin_labels, bin_weights


def _check_reduction(reduction_override: str | None) -> None:
    if reduction_override not in (None, "none", "mean", "sum"):
        raise AssertionError(f"reduction_override must be None, 'none', 'mean' or 'sum', got "
                             f"{reduction_override!r}")


class _GHMBase(nn.Module):
    """Bins and their (running) counts."""

    def __init__(self, bins: int, momentum: float, last_edge: float | None) -> None:
        super().__init__()
        self.bins = bins
        self.momentum = momentum
        edges = torch.arange(bins + 1).float() / bins
        self.register_buffer("edges", edges)
        if last_edge is None:
            self.edges[-1] += 1e-6
        else:
            self.edges[-1] = last_edge
        if momentum > 0:
            self.register_buffer("acc_sum", torch.zeros(bins))

    def _weights(self, g: Tensor, valid: Tensor, tot: float) -> Tensor:
        """Per-element weights ``tot / count(bin)`` over the non-empty bins' number."""
        weights = torch.zeros_like(g)
        n = 0
        for i in range(self.bins):
            inds = (g >= self.edges[i]) & (g < self.edges[i + 1]) & valid
            num_in_bin = inds.sum().item()
            if num_in_bin > 0:
                if self.momentum > 0:
                    self.acc_sum[i] = (self.momentum * self.acc_sum[i]
                                       + (1 - self.momentum) * num_in_bin)
                    weights[inds] = tot / self.acc_sum[i]
                else:
                    weights[inds] = tot / num_in_bin
                n += 1
        return weights / n if n > 0 else weights


@MODELS.register_module()
class GHMC(_GHMBase):
    """GHM classification loss (sigmoid binary cross-entropy).

    Args:
        bins: number of gradient-norm bins.
        momentum: running-average factor of the bin counts (0: counts of this batch).
        use_sigmoid: must be True.
        loss_weight: multiplies the loss.
        reduction: ``'none'``, ``'mean'`` or ``'sum'``.
    """

    def __init__(self, bins: int = 10, momentum: float = 0, use_sigmoid: bool = True,
                 loss_weight: float = 1.0, reduction: str = "mean") -> None:
        super().__init__(bins, momentum, last_edge=None)
        if not use_sigmoid:
            raise NotImplementedError("GHMC supports use_sigmoid=True only")
        self.use_sigmoid = use_sigmoid
        self.loss_weight = loss_weight
        self.reduction = reduction

    def forward(self, pred: Tensor, target: Tensor, label_weight: Tensor,
                reduction_override: str | None = None, **kwargs: object) -> Tensor:
        """Loss of logits ``pred`` (``Tensor[N, C]``) against labels ``Tensor[N]`` (``C`` =
        background) or binary targets ``Tensor[N, C]``; ``label_weight`` ``Tensor[N]`` or
        ``[N, C]``. ``avg_factor`` is ignored (the valid count is the divisor)."""
        _check_reduction(reduction_override)
        reduction = reduction_override if reduction_override else self.reduction
        if pred.dim() != target.dim():
            target, label_weight = _expand_onehot_labels(target, label_weight, pred.size(-1))
        target, label_weight = target.float(), label_weight.float()
        g = torch.abs(pred.sigmoid().detach() - target)
        valid = label_weight > 0
        tot = max(valid.float().sum().item(), 1.0)
        weights = self._weights(g, valid, tot)
        loss = F.binary_cross_entropy_with_logits(pred, target, reduction="none")
        return weight_reduce_loss(loss, weights, reduction=reduction,
                                  avg_factor=tot) * self.loss_weight


@MODELS.register_module()
class GHMR(_GHMBase):
    """GHM regression loss on the authentic smooth L1 ``sqrt(d^2 + mu^2) - mu``.

    Args:
        mu: the ASL1 smoothing parameter.
        bins: number of gradient-norm bins.
        momentum: running-average factor of the bin counts.
        loss_weight: multiplies the loss.
        reduction: ``'none'``, ``'mean'`` or ``'sum'``.
    """

    def __init__(self, mu: float = 0.02, bins: int = 10, momentum: float = 0,
                 loss_weight: float = 1.0, reduction: str = "mean") -> None:
        super().__init__(bins, momentum, last_edge=1e3)
        self.mu = mu
        self.loss_weight = loss_weight
        self.reduction = reduction

    def forward(self, pred: Tensor, target: Tensor, label_weight: Tensor,
                avg_factor: float | None = None,
                reduction_override: str | None = None) -> Tensor:
        """Loss of ``pred`` against ``target`` (``Tensor[N, 4]``), weights ``label_weight``
        (``[N, 4]``). ``avg_factor`` is ignored (the weight sum is the divisor)."""
        _check_reduction(reduction_override)
        reduction = reduction_override if reduction_override else self.reduction
        mu = self.mu
        diff = pred - target
        loss = torch.sqrt(diff * diff + mu * mu) - mu
        g = torch.abs(diff / torch.sqrt(mu * mu + diff * diff)).detach()
        valid = label_weight > 0
        tot = max(label_weight.float().sum().item(), 1.0)
        weights = self._weights(g, valid, tot)
        return weight_reduce_loss(loss, weights, reduction=reduction,
                                  avg_factor=tot) * self.loss_weight
