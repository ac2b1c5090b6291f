"""Greedy NMS with mmcv 1.x semantics, on top of ``torchvision.ops.nms``.

mmcv's CPU NMS differs from torchvision's in two details that change which boxes survive:

* it orders boxes with torch's default (unstable) descending sort, while torchvision sorts
  stably, so among tied scores the two can visit boxes in different orders;
* it compares the IoU with the threshold as a C++ ``float`` (the threshold rounded to
  float32), while torchvision compares against the ``double`` threshold.

:func:`nms` reproduces mmcv: it sorts with torch's unstable sort itself, then runs torchvision
on the reordered boxes with strictly decreasing surrogate scores and the float32-rounded
threshold. The IoU arithmetic of the two kernels is the same float32 sequence
(``inter / (area_i + area_j - inter)``) for ``offset=0``; ``offset=1`` (legacy ``+1`` box
sizes), which torchvision lacks, runs a NumPy float32 greedy loop with mmcv's formula.
Kept indices match mmcv-full 1.7.2's compiled kernel exactly
(``tests/ops/test_mmcv_nms_golden.py``).

>>> boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [1.0, 0.0, 11.0, 10.0], [20.0, 20.0, 30.0, 30.0]])
>>> dets, keep = nms(boxes, torch.tensor([0.9, 0.8, 0.7]), iou_threshold=0.5)
>>> keep
tensor([0, 2])
"""

from __future__ import annotations

from typing import Union

import numpy as np
import torch
import torchvision
from torch import Tensor

__all__ = ["nms", "nms_order", "float32_threshold"]

ArrayLike = Union[Tensor, np.ndarray]

# float32 represents every integer up to 2**24 exactly: the surrogate scores stay distinct.
_MAX_SURROGATE_F32 = 2**24


def float32_threshold(value: float) -> float:
    """``value`` rounded to the nearest float32, as mmcv's C++ kernels receive it."""
    return float(np.float32(value))


def nms_order(scores: Tensor) -> Tensor:
    """Indices of ``scores`` (``Tensor[N]``) in the order mmcv's NMS visits them.

    This is torch's default, unstable, descending sort (``scores.sort(0, descending=True)``),
    which for tied scores need not keep the input order.
    """
    return scores.sort(0, descending=True)[1]


def _greedy_offset(boxes: Tensor, order: Tensor, iou_threshold: float, offset: int) -> Tensor:
    """mmcv's greedy suppression loop in float32 NumPy (used for ``offset=1``)."""
    b = boxes.detach().to("cpu", torch.float32).numpy()[order.cpu().numpy()]
    x1, y1, x2, y2 = (np.ascontiguousarray(b[:, k]) for k in range(4))
    off = np.float32(offset)
    areas = (x2 - x1 + off) * (y2 - y1 + off)
    thr = np.float32(iou_threshold)
    n = b.shape[0]
    alive = np.ones(n, dtype=bool)
    for i in range(n):
        if not alive[i]:
            continue
        rest = np.flatnonzero(alive[i + 1:]) + i + 1
        if rest.size == 0:
            break
        zero = np.float32(0)
        w = np.maximum(zero, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]) + off)
        h = np.maximum(zero, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]) + off)
        inter = w * h
        with np.errstate(divide="ignore", invalid="ignore"):
            ovr = inter / (areas[i] + areas[rest] - inter)
        alive[rest[ovr > thr]] = False
    return order[torch.from_numpy(np.flatnonzero(alive)).to(order.device)]


def _nms_indices(boxes: Tensor, scores: Tensor, iou_threshold: float, offset: int) -> Tensor:
    """Kept indices of ``boxes``, highest score first (mmcv's ``ext_module.nms``)."""
    if boxes.numel() == 0:
        return boxes.new_empty((0,), dtype=torch.long)
    order = nms_order(scores)
    if offset != 0:
        return _greedy_offset(boxes, order, iou_threshold, offset)
    work_dtype = torch.float64 if boxes.dtype == torch.float64 else torch.float32
    n = boxes.size(0)
    if work_dtype == torch.float32 and n > _MAX_SURROGATE_F32:
        raise ValueError(f"nms on {n} boxes at once is not supported (at most 2**24); "
                         "split them with batched_nms's split_thr")
    sorted_boxes = boxes.detach()[order].to(work_dtype)
    surrogate = torch.arange(n, 0, -1, dtype=work_dtype, device=boxes.device)
    keep = torchvision.ops.nms(sorted_boxes, surrogate, float32_threshold(iou_threshold))
    # torchvision returns positions in decreasing surrogate score, i.e. in visiting order.
    return order[keep]


def nms(boxes: ArrayLike, scores: ArrayLike, iou_threshold: float, offset: int = 0,
        score_threshold: float = 0, max_num: int = -1) -> tuple[ArrayLike, ArrayLike]:
    """Greedy non-maximum suppression with mmcv's ``mmcv.ops.nms`` semantics.

    A box is suppressed when its IoU with a kept, higher-ranked box is strictly greater than
    ``iou_threshold`` (compared in float32).

    Args:
        boxes: ``Tensor[N, 4]`` xyxy (or a NumPy array; the outputs are then NumPy too).
        scores: ``Tensor[N]``.
        iou_threshold: IoU above which the lower-ranked box is dropped.
        offset: 0, or 1 for the legacy ``x2 - x1 + 1`` box sizes.
        score_threshold: if positive, only boxes with ``score > score_threshold`` take part.
        max_num: if positive, keep at most this many boxes.

    Returns:
        ``(dets, keep)``: ``dets`` is ``Tensor[K, 5]`` (``x1, y1, x2, y2, score``) and ``keep``
        the ``Tensor[K]`` int64 indices into ``boxes``, highest score first.
    """
    is_numpy = isinstance(boxes, np.ndarray)
    if is_numpy:
        boxes = torch.from_numpy(boxes)
    if isinstance(scores, np.ndarray):
        scores = torch.from_numpy(scores)
    if not (boxes.dim() == 2 and boxes.size(1) == 4):
        raise AssertionError(f"nms: boxes must be (N, 4), got {tuple(boxes.shape)}")
    if boxes.size(0) != scores.size(0):
        raise AssertionError(f"nms: {boxes.size(0)} boxes but {scores.size(0)} scores")
    if offset not in (0, 1):
        raise AssertionError(f"nms: offset must be 0 or 1, got {offset}")

    sel_boxes, sel_scores, valid_inds = boxes, scores, None
    if score_threshold > 0:
        valid_mask = scores > score_threshold
        sel_boxes, sel_scores = boxes[valid_mask], scores[valid_mask]
        valid_inds = torch.nonzero(valid_mask, as_tuple=False).squeeze(1)
    inds = _nms_indices(sel_boxes, sel_scores, iou_threshold, offset)
    if max_num > 0:
        inds = inds[:max_num]
    if valid_inds is not None:
        inds = valid_inds[inds]
    dets = torch.cat((boxes[inds], scores[inds].reshape(-1, 1)), dim=1)
    if is_numpy:
        return dets.cpu().numpy(), inds.cpu().numpy()
    return dets, inds
