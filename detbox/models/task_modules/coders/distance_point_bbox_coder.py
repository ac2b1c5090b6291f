"""Boxes as distances from a point to their four sides (``type='DistancePointBBoxCoder'``).

Anchor-free heads (FCOS) regress, for a point ``(x, y)``, the distances ``(left, top, right,
bottom)`` to the sides of its box: ``x1 = x - left``, ``y1 = y - top``, ``x2 = x + right``,
``y2 = y + bottom``.

>>> import torch
>>> coder = DistancePointBBoxCoder()
>>> points = torch.tensor([[10.0, 10.0]])
>>> coder.encode(points, torch.tensor([[4.0, 6.0, 20.0, 30.0]]))
tensor([[ 6.,  4., 10., 20.]])
>>> coder.decode(points, torch.tensor([[6.0, 4.0, 10.0, 20.0]]), max_shape=(25, 40))
tensor([[ 4.,  6., 20., 25.]])
"""

from __future__ import annotations

from typing import Sequence, Union

from torch import Tensor

from detbox.ops import bbox2distance, distance2bbox
from detbox.registry import TASK_UTILS

from .base_bbox_coder import BaseBBoxCoder

__all__ = ["DistancePointBBoxCoder"]

MaxShape = Union[Sequence[int], Sequence[Sequence[int]], Tensor]


@TASK_UTILS.register_module()
class DistancePointBBoxCoder(BaseBBoxCoder):
    """Encode xyxy boxes as point-to-side distances and back.

    Args:
        clip_border: clip decoded boxes to ``max_shape`` when it is given.
    """

    def __init__(self, clip_border: bool = True) -> None:
        self.clip_border = clip_border

    def encode(self, points: Tensor, gt_bboxes: Tensor, max_dis: float | None = None,
               eps: float = 0.1) -> Tensor:
        """Distances ``Tensor[N, 4]`` (left, top, right, bottom) from ``points`` (``[N, 2]``)
        to the sides of ``gt_bboxes`` (``[N, 4]`` xyxy); clamped to ``[0, max_dis - eps]`` when
        ``max_dis`` is given."""
        if points.size(0) != gt_bboxes.size(0) or points.size(-1) != 2 \
                or gt_bboxes.size(-1) != 4:
            raise AssertionError(f"DistancePointBBoxCoder.encode: points {tuple(points.shape)} "
                                 f"and gt_bboxes {tuple(gt_bboxes.shape)} must be [N, 2], [N, 4]")
        return bbox2distance(points, gt_bboxes, max_dis, eps)

    def decode(self, points: Tensor, pred_bboxes: Tensor,
               max_shape: MaxShape | None = None) -> Tensor:
        """Boxes ``Tensor[(B,) N, 4]`` xyxy from ``points`` (``[(B,) N, 2]``) and distances
        ``pred_bboxes`` (``[(B,) N, 4]``), clipped to ``max_shape`` ``(h, w)`` if given."""
        if points.size(0) != pred_bboxes.size(0) or points.size(-1) != 2 \
                or pred_bboxes.size(-1) != 4:
            raise AssertionError(f"DistancePointBBoxCoder.decode: points {tuple(points.shape)} "
                                 f"and pred_bboxes {tuple(pred_bboxes.shape)} do not match")
        if not self.clip_border:
            max_shape = None
        return distance2bbox(points, pred_bboxes, max_shape)
