"""``BBoxL1Cost``: L1 distance between predicted and ground-truth boxes."""

from __future__ import annotations

import torch
from torch import Tensor

from detbox.ops import bbox_cxcywh_to_xyxy, bbox_xyxy_to_cxcywh
from detbox.registry import TASK_UTILS

__all__ = ["BBoxL1Cost"]


@TASK_UTILS.register_module()
class BBoxL1Cost:
    """``weight * ||pred - gt||_1`` between every prediction and every ground truth.

    Args:
        weight: cost weight.
        box_format: ``'xyxy'`` compares corners (predictions converted from cx, cy, w, h),
            ``'xywh'`` compares ``cx, cy, w, h`` (ground truths converted).

    >>> cost = BBoxL1Cost(box_format='xywh')
    >>> cost(torch.tensor([[0.5, 0.5, 1.0, 1.0]]), torch.tensor([[0.0, 0.0, 1.0, 1.0]]))
    tensor([[0.]])
    """

    def __init__(self, weight: float = 1.0, box_format: str = "xyxy") -> None:
        if box_format not in ("xyxy", "xywh"):
            raise ValueError(f"box_format must be 'xyxy' or 'xywh', got {box_format!r}")
        self.weight = weight
        self.box_format = box_format

    def __call__(self, bbox_pred: Tensor, gt_bboxes: Tensor) -> Tensor:
        """Costs of ``bbox_pred: Tensor[N, 4]`` (normalised ``cx, cy, w, h``) against
        ``gt_bboxes: Tensor[M, 4]`` (normalised ``x1, y1, x2, y2``) -> ``Tensor[N, M]``."""
        if self.box_format == "xywh":
            gt_bboxes = bbox_xyxy_to_cxcywh(gt_bboxes)
        else:
            bbox_pred = bbox_cxcywh_to_xyxy(bbox_pred)
        return torch.cdist(bbox_pred, gt_bboxes, p=1) * self.weight
