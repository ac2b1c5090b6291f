"""YOLOv3's box coding (``type='YOLOBBoxCoder'``).

A box is coded against an anchor of a level of stride ``s`` as ``(tx, ty, tw, th)``: the
ground-truth center's offset from the anchor's center in strides, shifted by 0.5 and clamped to
``[eps, 1 - eps]`` (the cell-relative position a sigmoid predicts), and the log of the width and
height ratios (ratios clamped below at ``eps``). Decoding takes already sigmoid-ed ``tx, ty``.

>>> import torch
>>> coder = YOLOBBoxCoder()
>>> anchor = torch.tensor([[0.0, 0.0, 32.0, 32.0]])
>>> coder.decode(anchor, torch.tensor([[0.5, 0.75, 0.0, 0.0]]), 32)
tensor([[ 0.,  8., 32., 40.]])
"""

from __future__ import annotations

from typing import Union

import torch
from torch import Tensor

from detbox.registry import TASK_UTILS

from .base_bbox_coder import BaseBBoxCoder

__all__ = ["YOLOBBoxCoder", "yolo_encode", "yolo_decode"]

StrideLike = Union[Tensor, float]


def yolo_encode(bboxes: Tensor, gt_bboxes: Tensor, stride: StrideLike,
                eps: float = 1e-6) -> Tensor:
    """Targets ``Tensor[N, 4]`` of ``gt_bboxes`` ``[N, 4]`` w.r.t. anchors ``bboxes`` ``[N, 4]``
    (``stride``: a number or ``Tensor[N]``)."""
    if bboxes.size(0) != gt_bboxes.size(0) or bboxes.size(-1) != 4 or gt_bboxes.size(-1) != 4:
        raise ValueError(f"yolo_encode: boxes {tuple(bboxes.shape)} and gt_bboxes "
                         f"{tuple(gt_bboxes.shape)} must both be [N, 4]")
    gt_cx = (gt_bboxes[..., 0] + gt_bboxes[..., 2]) * 0.5
    gt_cy = (gt_bboxes[..., 1] + gt_bboxes[..., 3]) * 0.5
    gt_w = gt_bboxes[..., 2] - gt_bboxes[..., 0]
    gt_h = gt_bboxes[..., 3] - gt_bboxes[..., 1]
    cx = (bboxes[..., 0] + bboxes[..., 2]) * 0.5
    cy = (bboxes[..., 1] + bboxes[..., 3]) * 0.5
    w = bboxes[..., 2] - bboxes[..., 0]
    h = bboxes[..., 3] - bboxes[..., 1]
    tw = torch.log((gt_w / w).clamp(min=eps))
    th = torch.log((gt_h / h).clamp(min=eps))
    tx = ((gt_cx - cx) / stride + 0.5).clamp(eps, 1 - eps)
    ty = ((gt_cy - cy) / stride + 0.5).clamp(eps, 1 - eps)
    return torch.stack([tx, ty, tw, th], dim=-1)


def yolo_decode(bboxes: Tensor, pred_bboxes: Tensor, stride: StrideLike) -> Tensor:
    """Boxes ``Tensor[..., 4]`` xyxy from anchors ``[..., 4]`` and predictions ``[..., 4]``
    (``(sigmoid tx, sigmoid ty, tw, th)``); ``stride`` broadcasts against ``[..., 2]``."""
    if pred_bboxes.size(-1) != 4 or bboxes.size(-1) != 4:
        raise ValueError("yolo_decode: boxes and predictions must end in 4")
    centers = (bboxes[..., :2] + bboxes[..., 2:]) * 0.5 + (pred_bboxes[..., :2] - 0.5) * stride
    half_wh = (bboxes[..., 2:] - bboxes[..., :2]) * 0.5 * pred_bboxes[..., 2:].exp()
    return torch.stack((centers[..., 0] - half_wh[..., 0], centers[..., 1] - half_wh[..., 1],
                        centers[..., 0] + half_wh[..., 0], centers[..., 1] + half_wh[..., 1]),
                       dim=-1)


@TASK_UTILS.register_module()
class YOLOBBoxCoder(BaseBBoxCoder):
    """YOLOv3 coder (see the module docstring).

    Args:
        eps: lower clamp of the coded centers (and of the size ratios).
    """

    def __init__(self, eps: float = 1e-6) -> None:
        self.eps = eps

    def encode(self, bboxes: Tensor, gt_bboxes: Tensor,  # type: ignore[override]
               stride: StrideLike) -> Tensor:
        """See :func:`yolo_encode`."""
        return yolo_encode(bboxes, gt_bboxes, stride, self.eps)

    def decode(self, bboxes: Tensor, pred_bboxes: Tensor,  # type: ignore[override]
               stride: StrideLike) -> Tensor:
        """See :func:`yolo_decode`."""
        return yolo_decode(bboxes, pred_bboxes, stride)
