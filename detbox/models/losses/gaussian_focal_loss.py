"""``GaussianFocalLoss``: CornerNet's focal loss on gaussian-smoothed keypoint heatmaps.

For probabilities ``p`` and a target heatmap ``t`` (1 at the keypoints)::

    loss = -log(p) (1 - p)^alpha [t == 1]  -  log(1 - p) p^alpha (1 - t)^gamma

so negatives near a keypoint are down-weighted by ``(1 - t)^gamma``.

>>> import torch
>>> round(gaussian_focal_loss(torch.tensor([0.5]), torch.tensor([1.0])).item(), 4)  # ln2 / 4
0.1733
"""

from __future__ import annotations

from torch import Tensor, nn

from detbox.registry import MODELS

from .utils import resolve_reduction, weighted_loss

__all__ = ["GaussianFocalLoss", "gaussian_focal_loss"]


@weighted_loss
def gaussian_focal_loss(pred: Tensor, gaussian_target: Tensor, alpha: float = 2.0,
                        gamma: float = 4.0) -> Tensor:
    """Element-wise loss of probabilities ``pred`` against ``gaussian_target`` (same shape)."""
    eps = 1e-12
    pos_weights = gaussian_target.eq(1)
    neg_weights = (1 - gaussian_target).pow(gamma)
    pos_loss = -(pred + eps).log() * (1 - pred).pow(alpha) * pos_weights
    neg_loss = -(1 - pred + eps).log() * pred.pow(alpha) * neg_weights
    return pos_loss + neg_loss


@MODELS.register_module()
class GaussianFocalLoss(nn.Module):
    """Module form of :func:`gaussian_focal_loss` (its input is probabilities, not logits).

    Args:
        alpha: exponent of the focusing term.
        gamma: exponent of the negatives' ``(1 - target)`` weight.
        reduction: ``'none'``, ``'mean'`` or ``'sum'``.
        loss_weight: multiplier of the loss.
    """

    def __init__(self, alpha: float = 2.0, gamma: float = 4.0, reduction: str = "mean",
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        self.alpha = alpha
        self.gamma = gamma
        self.reduction = reduction
        self.loss_weight = loss_weight

    def forward(self, pred: Tensor, target: Tensor, weight: Tensor | None = None,
                avg_factor: float | Tensor | None = None,
                reduction_override: str | None = None) -> Tensor:
        """Weighted, reduced loss of ``pred`` against ``target``."""
        reduction = resolve_reduction(self.reduction, reduction_override)
        return self.loss_weight * gaussian_focal_loss(
            pred, target, weight, alpha=self.alpha, gamma=self.gamma, reduction=reduction,
            avg_factor=avg_factor)
