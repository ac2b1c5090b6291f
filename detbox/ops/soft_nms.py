"""Soft-NMS with mmcv 1.x semantics (``mmcv.ops.soft_nms``), in float32 NumPy.

mmcv's CPU kernel works in place on the box arrays: at step ``i`` it swaps the highest
remaining score (the first one in the current array order) into position ``i``, decays the
scores of every later box by its IoU with box ``i``, and removes a box whose score drops
below ``min_score`` by moving the last box into its slot. This module reproduces that order
exactly, with the inner loop vectorised.

Decay of a box with IoU ``o`` against the selected box:

* ``'linear'``: ``1 - o`` if ``o >= iou_threshold`` else unchanged;
* ``'gaussian'``: ``exp(-o**2 / sigma)``;
* ``'naive'``: 0 if ``o >= iou_threshold`` (plain NMS, the removed scores become 0).

Checked against mmcv-full 1.7.2's compiled kernel (``tests/ops/test_mmcv_nms_golden.py``):
same indices in the same order; gaussian scores can differ in the last float32 bit (``exp``).

>>> boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 10.0, 5.0]])
>>> dets, inds = soft_nms(boxes, torch.tensor([0.9, 0.8]), iou_threshold=0.3)
>>> dets[:, 4]
tensor([0.9000, 0.4000])
"""

from __future__ import annotations

from typing import Union

import numpy as np
import torch
from torch import Tensor

__all__ = ["soft_nms"]

ArrayLike = Union[Tensor, np.ndarray]
_METHODS = {"naive": 0, "linear": 1, "gaussian": 2}


def _compaction_order(kept: np.ndarray) -> np.ndarray:
    """Positions, in final order, of the ``kept`` entries after mmcv's swap-with-last removal.

    Walking forward, a removed entry's slot receives the last entry not yet visited, which is
    examined in turn; so the first ``T = kept.sum()`` slots keep their own entry where it is
    kept, and the holes among them are filled, in order, with the kept entries beyond ``T``
    taken from the back.
    """
    total = int(kept.sum())
    order = np.arange(total)
    holes = np.flatnonzero(~kept[:total])
    if holes.size:
        order[holes] = (np.flatnonzero(kept[total:]) + total)[::-1]
    return order


def _argmax_from(sc: np.ndarray, i: int, n: int) -> int:
    """Position of the best score in ``sc[i:n]`` as mmcv's scan finds it.

    The scan starts from ``sc[i]`` and moves on only to a strictly greater score, so the first
    maximum wins and NaN scores (from 0/0 IoUs of empty boxes) are never picked, unless one
    already sits at ``i``.
    """
    if np.isnan(sc[i]):
        return i
    return i + int(np.nanargmax(sc[i:n]))


def soft_nms(boxes: ArrayLike, scores: ArrayLike, iou_threshold: float = 0.3, sigma: float = 0.5,
             min_score: float = 1e-3, method: str = "linear",
             offset: int = 0) -> tuple[ArrayLike, ArrayLike]:
    """Soft non-maximum suppression, as ``mmcv.ops.soft_nms``.

    Args:
        boxes: ``Tensor[N, 4]`` xyxy (or a NumPy array; the outputs are then NumPy too).
        scores: ``Tensor[N]``.
        iou_threshold: IoU threshold of the ``'linear'`` and ``'naive'`` decays.
        sigma: width of the ``'gaussian'`` decay.
        min_score: boxes whose decayed score falls below this are dropped.
        method: ``'linear'``, ``'gaussian'`` or ``'naive'``.
        offset: 0, or 1 for the legacy ``x2 - x1 + 1`` box sizes.

    Returns:
        ``(dets, inds)``: ``dets`` is ``Tensor[K, 5]`` float32 (``x1, y1, x2, y2`` and the
        decayed score), ``inds`` the ``Tensor[K]`` int64 input indices, in selection order
        (decreasing decayed score).
    """
    is_numpy = isinstance(boxes, np.ndarray)
    device = None if is_numpy else boxes.device
    boxes_np = boxes if is_numpy else boxes.detach().cpu().numpy()
    scores_np = scores if isinstance(scores, np.ndarray) else scores.detach().cpu().numpy()
    if not (boxes_np.ndim == 2 and boxes_np.shape[1] == 4):
        raise AssertionError(f"soft_nms: boxes must be (N, 4), got {tuple(boxes_np.shape)}")
    if boxes_np.shape[0] != scores_np.shape[0]:
        raise AssertionError(
            f"soft_nms: {boxes_np.shape[0]} boxes but {scores_np.shape[0]} scores")
    if offset not in (0, 1):
        raise AssertionError(f"soft_nms: offset must be 0 or 1, got {offset}")
    if method not in _METHODS:
        raise AssertionError(f"soft_nms: method must be one of {list(_METHODS)}, got {method!r}")

    f32 = np.float32
    x1, y1, x2, y2 = (np.array(boxes_np[:, k], dtype=f32) for k in range(4))
    sc = np.array(scores_np, dtype=f32)
    off = f32(offset)
    areas = (x2 - x1 + off) * (y2 - y1 + off)
    inds = np.arange(sc.shape[0], dtype=np.int64)
    columns = [x1, y1, x2, y2, sc, areas, inds]
    thr, sig, low = f32(iou_threshold), f32(sigma), f32(min_score)
    dets = np.empty((sc.shape[0], 5), dtype=f32)

    n, i = sc.shape[0], 0
    while i < n:
        j = _argmax_from(sc, i, n)
        for col in columns:  # swap the best remaining box into slot i
            col[i], col[j] = col[j], col[i]
        dets[i] = (x1[i], y1[i], x2[i], y2[i], sc[i])
        rest = slice(i + 1, n)
        w = np.maximum(f32(0), np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]) + off)
        h = np.maximum(f32(0), np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]) + off)
        inter = w * h
        with np.errstate(divide="ignore", invalid="ignore"):
            ovr = inter / (areas[i] + areas[rest] - inter)
        if method == "linear":
            sc[rest] *= np.where(ovr >= thr, f32(1) - ovr, f32(1))
        elif method == "gaussian":
            # float32 argument as in C++; exp in float64 rounded to float32 tracks the
            # (nearly correctly rounded) C ``expf`` closer than NumPy's float32 SIMD exp
            sc[rest] *= np.exp((-(ovr * ovr) / sig).astype(np.float64)).astype(f32)
        else:
            sc[rest] *= np.where(ovr >= thr, f32(0), f32(1))
        kept = ~(sc[rest] < low)
        if not kept.all():
            order = _compaction_order(kept) + i + 1
            for col in columns:
                col[i + 1:i + 1 + order.size] = col[order]
            n = i + 1 + order.size
        i += 1

    out_dets, out_inds = dets[:n], inds[:n].copy()
    if is_numpy:
        return out_dets, out_inds
    return torch.from_numpy(out_dets).to(device), torch.from_numpy(out_inds).to(device)
