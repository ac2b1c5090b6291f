"""``FocalLossCost``: focal-loss difference between labelling a prediction positive or not."""

from __future__ import annotations

import torch
from torch import Tensor

from detbox.registry import TASK_UTILS

__all__ = ["FocalLossCost"]


@TASK_UTILS.register_module()
class FocalLossCost:
    """Focal loss of the ground-truth class as positive minus the same as negative.

    Args:
        weight: cost weight.
        alpha: focal loss alpha.
        gamma: focal loss gamma.
        eps: added inside the logarithms.
        binary_input: ``cls_pred`` are mask logits ``[N, ...]`` and ``gt_labels`` binary masks
            ``[M, ...]`` (the cost is then averaged over the mask elements).

    >>> FocalLossCost()(torch.zeros(1, 2), torch.tensor([0])).shape
    torch.Size([1, 1])
    """

    def __init__(self, weight: float = 1.0, alpha: float = 0.25, gamma: float = 2,
                 eps: float = 1e-12, binary_input: bool = False) -> None:
        self.weight = weight
        self.alpha = alpha
        self.gamma = gamma
        self.eps = eps
        self.binary_input = binary_input

    def _pos_neg(self, cls_pred: Tensor) -> tuple[Tensor, Tensor]:
        prob = cls_pred.sigmoid()
        neg = -(1 - prob + self.eps).log() * (1 - self.alpha) * prob.pow(self.gamma)
        pos = -(prob + self.eps).log() * self.alpha * (1 - prob).pow(self.gamma)
        return pos, neg

    def __call__(self, cls_pred: Tensor, gt_labels: Tensor) -> Tensor:
        """``cls_pred: Tensor[N, C]`` logits, ``gt_labels: Tensor[M]`` -> ``Tensor[N, M]``."""
        if self.binary_input:
            cls_pred = cls_pred.flatten(1)
            gt = gt_labels.flatten(1).float()
            pos, neg = self._pos_neg(cls_pred)
            cost = torch.einsum("nc,mc->nm", pos, gt) + torch.einsum("nc,mc->nm", neg, 1 - gt)
            return cost / cls_pred.shape[1] * self.weight
        pos, neg = self._pos_neg(cls_pred)
        return (pos[:, gt_labels] - neg[:, gt_labels]) * self.weight
