"""``IoUCost``: negative (G)IoU between predicted and ground-truth boxes."""

from __future__ import annotations

from torch import Tensor

from detbox.ops import bbox_overlaps
from detbox.registry import TASK_UTILS

__all__ = ["IoUCost"]


@TASK_UTILS.register_module()
class IoUCost:
    """``-weight * overlaps(bboxes, gt_bboxes)``.

    Args:
        iou_mode: ``'iou'``, ``'iof'`` or ``'giou'``.
        weight: cost weight.

    >>> import torch
    >>> IoUCost()(torch.tensor([[0., 0., 2., 2.]]), torch.tensor([[0., 0., 2., 2.]]))
    tensor([[-1.]])
    """

    def __init__(self, iou_mode: str = "giou", weight: float = 1.0) -> None:
        self.weight = weight
        self.iou_mode = iou_mode

    def __call__(self, bboxes: Tensor, gt_bboxes: Tensor) -> Tensor:
        """``bboxes: Tensor[N, 4]``, ``gt_bboxes: Tensor[M, 4]`` (pixels, xyxy) -> ``[N, M]``."""
        return -bbox_overlaps(bboxes, gt_bboxes, mode=self.iou_mode, is_aligned=False) * self.weight
