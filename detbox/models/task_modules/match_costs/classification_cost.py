"""``ClassificationCost``: negative softmax probability of the ground-truth class."""

from __future__ import annotations

from torch import Tensor

from detbox.registry import TASK_UTILS

__all__ = ["ClassificationCost"]


@TASK_UTILS.register_module()
class ClassificationCost:
    """``-weight * softmax(cls_pred)[:, gt_label]``.

    Args:
        weight: cost weight.

    >>> import torch
    >>> ClassificationCost()(torch.zeros(1, 2), torch.tensor([1]))
    tensor([[-0.5000]])
    """

    def __init__(self, weight: float = 1.0) -> None:
        self.weight = weight

    def __call__(self, cls_pred: Tensor, gt_labels: Tensor) -> Tensor:
        """``cls_pred: Tensor[N, C]`` logits, ``gt_labels: Tensor[M]`` -> ``Tensor[N, M]``."""
        return -cls_pred.softmax(-1)[:, gt_labels] * self.weight
