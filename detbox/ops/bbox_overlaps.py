"""Pairwise and aligned overlaps (IoU, IoF, GIoU) of ``xyxy`` boxes, as in MMDetection v2.

The union (and, for GIoU, the enclosing area) is floored at ``eps`` before dividing, so
degenerate boxes give 0 instead of NaN.

>>> a = torch.tensor([[0.0, 0.0, 10.0, 10.0]])
>>> b = torch.tensor([[5.0, 0.0, 15.0, 10.0], [20.0, 20.0, 30.0, 30.0]])
>>> bbox_overlaps(a, b)
tensor([[0.3333, 0.0000]])
>>> bbox_overlaps(a, b, mode='iof')
tensor([[0.5000, 0.0000]])
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["bbox_overlaps"]

_MODES = ("iou", "iof", "giou")


def _check(condition: bool, message: str) -> None:
    # MMDetection asserts these; keep the exception type, but survive ``python -O``.
    if not condition:
        raise AssertionError(message)


def bbox_overlaps(bboxes1: Tensor, bboxes2: Tensor, mode: str = "iou", is_aligned: bool = False,
                  eps: float = 1e-6) -> Tensor:
    """Overlaps between two sets of ``xyxy`` boxes.

    Args:
        bboxes1: ``Tensor[..., M, 4]`` xyxy (or empty); ``...`` are batch dims.
        bboxes2: ``Tensor[..., N, 4]`` xyxy (or empty), same batch dims as ``bboxes1``.
        mode: ``'iou'`` (intersection over union), ``'iof'`` (intersection over the area of
            ``bboxes1``) or ``'giou'`` (generalized IoU, in [-1, 1]).
        is_aligned: compare row ``i`` of ``bboxes1`` with row ``i`` of ``bboxes2`` only
            (``M == N``) instead of every pair.
        eps: lower bound of the union and of the enclosing area.

    Returns:
        ``Tensor[..., M, N]``, or ``Tensor[..., M]`` when ``is_aligned``.
    """
    _check(mode in _MODES, f"Unsupported mode {mode}; expected one of {_MODES}")
    _check(bboxes1.size(-1) == 4 or bboxes1.size(0) == 0,
           f"bboxes1 must be (..., M, 4) xyxy, got shape {tuple(bboxes1.shape)}")
    _check(bboxes2.size(-1) == 4 or bboxes2.size(0) == 0,
           f"bboxes2 must be (..., N, 4) xyxy, got shape {tuple(bboxes2.shape)}")
    _check(bboxes1.shape[:-2] == bboxes2.shape[:-2],
           f"batch dims differ: {tuple(bboxes1.shape)} vs {tuple(bboxes2.shape)}")
    batch_shape = bboxes1.shape[:-2]
    rows, cols = bboxes1.size(-2), bboxes2.size(-2)
    if is_aligned:
        _check(rows == cols, f"is_aligned needs as many boxes on both sides, got {rows} and {cols}")

    if rows * cols == 0:
        shape = batch_shape + ((rows,) if is_aligned else (rows, cols))
        return bboxes1.new_empty(shape)

    area1 = (bboxes1[..., 2] - bboxes1[..., 0]) * (bboxes1[..., 3] - bboxes1[..., 1])
    area2 = (bboxes2[..., 2] - bboxes2[..., 0]) * (bboxes2[..., 3] - bboxes2[..., 1])

    if is_aligned:
        lt = torch.max(bboxes1[..., :2], bboxes2[..., :2])  # [..., M, 2]
        rb = torch.min(bboxes1[..., 2:], bboxes2[..., 2:])  # [..., M, 2]
        wh = (rb - lt).clamp(min=0)
        overlap = wh[..., 0] * wh[..., 1]  # [..., M]
        union = area1 + area2 - overlap if mode in ("iou", "giou") else area1
        if mode == "giou":
            enclosed_lt = torch.min(bboxes1[..., :2], bboxes2[..., :2])
            enclosed_rb = torch.max(bboxes1[..., 2:], bboxes2[..., 2:])
    else:
        lt = torch.max(bboxes1[..., :, None, :2], bboxes2[..., None, :, :2])  # [..., M, N, 2]
        rb = torch.min(bboxes1[..., :, None, 2:], bboxes2[..., None, :, 2:])  # [..., M, N, 2]
        wh = (rb - lt).clamp(min=0)
        overlap = wh[..., 0] * wh[..., 1]  # [..., M, N]
        if mode in ("iou", "giou"):
            union = area1[..., None] + area2[..., None, :] - overlap
        else:
            union = area1[..., None]
        if mode == "giou":
            enclosed_lt = torch.min(bboxes1[..., :, None, :2], bboxes2[..., None, :, :2])
            enclosed_rb = torch.max(bboxes1[..., :, None, 2:], bboxes2[..., None, :, 2:])

    eps_t = union.new_tensor([eps])
    union = torch.max(union, eps_t)
    ious = overlap / union
    if mode in ("iou", "iof"):
        return ious
    enclose_wh = (enclosed_rb - enclosed_lt).clamp(min=0)
    enclose_area = torch.max(enclose_wh[..., 0] * enclose_wh[..., 1], eps_t)
    return ious - (enclose_area - union) / enclose_area
