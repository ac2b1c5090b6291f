"""Proposal recall at several proposal counts and IoU thresholds (MMDetection v2's
``eval_recalls``).

Per image, ground truths and the top-``n`` proposals are paired greedily (the pair with the
highest IoU first, then both are removed); a ground truth is recalled at threshold ``t`` when
its paired IoU is ``>= t``.

>>> gts = [np.array([[0, 0, 10, 10], [20, 20, 30, 30]], dtype=np.float32)]
>>> props = [np.array([[0, 0, 10, 10, 0.9], [20, 20, 30, 25, 0.8]], dtype=np.float32)]
>>> eval_recalls(gts, props, [1, 2], [0.5, 0.7], logger='silent').tolist()
[[0.5, 0.5], [1.0, 0.5]]
"""

from __future__ import annotations

import logging
from typing import Sequence

import numpy as np

from .bbox_overlaps import bbox_overlaps
from .report import format_table, print_log

__all__ = ["eval_recalls", "print_recall_summary", "set_recall_param"]


def _matched_ious(ious: np.ndarray) -> np.ndarray:
    """Greedy one-to-one pairing; the IoU each ground truth gets (``-1`` when none is left).

    Args:
        ious: ``ndarray[G, P]`` ground truths x proposals.

    Returns:
        ``ndarray[G]`` (ordered by pairing, not by ground truth).
    """
    ious = ious.copy()
    out = np.zeros(ious.shape[0])
    if ious.size == 0:
        return out
    rows = np.arange(ious.shape[0])
    for j in range(ious.shape[0]):
        best_box = ious.argmax(axis=1)  # [G]
        best_iou = ious[rows, best_box]
        gt_idx = best_iou.argmax()
        out[j] = best_iou[gt_idx]
        ious[gt_idx, :] = -1
        ious[:, best_box[gt_idx]] = -1
    return out


def _recalls(all_ious: list[np.ndarray], proposal_nums: np.ndarray,
             thrs: np.ndarray) -> np.ndarray:
    total_gt_num = sum(ious.shape[0] for ious in all_ious)
    matched = np.zeros((proposal_nums.size, total_gt_num), dtype=np.float32)
    for k, num in enumerate(proposal_nums):
        parts = [_matched_ious(ious[:, :num]) for ious in all_ious]
        matched[k, :] = np.hstack(parts) if parts else np.zeros(0)
    recalls = np.zeros((proposal_nums.size, thrs.size))
    if total_gt_num == 0:
        return recalls
    for i, thr in enumerate(thrs):
        recalls[:, i] = (matched >= thr).sum(axis=1) / float(total_gt_num)
    return recalls


def set_recall_param(proposal_nums: int | Sequence[int] | np.ndarray,
                     iou_thrs: float | Sequence[float] | np.ndarray | None
                     ) -> tuple[np.ndarray, np.ndarray]:
    """``proposal_nums`` and ``iou_thrs`` as 1-D arrays (``iou_thrs=None`` means ``[0.5]``)."""
    if isinstance(proposal_nums, (int, np.integer)):
        nums = np.array([proposal_nums])
    else:
        nums = np.asarray(proposal_nums)
    if iou_thrs is None:
        thrs = np.array([0.5])
    elif isinstance(iou_thrs, (float, np.floating)):
        thrs = np.array([iou_thrs])
    else:
        thrs = np.asarray(iou_thrs)
    return nums, thrs


def eval_recalls(gts: Sequence[np.ndarray | None], proposals: Sequence[np.ndarray],
                 proposal_nums: int | Sequence[int] | None = None,
                 iou_thrs: float | Sequence[float] | None = 0.5,
                 logger: logging.Logger | str | None = None,
                 use_legacy_coordinate: bool = False) -> np.ndarray:
    """Recall of ground truths by the top proposals of each image.

    Args:
        gts: per image ``ndarray[N, 4]`` xyxy (or ``None`` for none).
        proposals: per image ``ndarray[K, 4]``, or ``ndarray[K, 5]`` with a score column (then
            sorted by score first).
        proposal_nums: the top-``n`` counts to evaluate (int or sequence).
        iou_thrs: IoU threshold(s).
        logger: where the table goes (``'silent'``: nowhere); see :func:`print_log`.
        use_legacy_coordinate: ``+1`` widths/heights (PASCAL VOC devkit convention).

    Returns:
        ``ndarray[len(proposal_nums), len(iou_thrs)]`` recalls (zeros when there is no ground
        truth at all, where v2 divides by zero).
    """
    if len(gts) != len(proposals):
        raise ValueError(f"eval_recalls: {len(gts)} images of ground truth but "
                         f"{len(proposals)} of proposals")
    if proposal_nums is None:
        raise ValueError("eval_recalls: proposal_nums is required (e.g. (100, 300, 1000))")
    nums, thrs = set_recall_param(proposal_nums, iou_thrs)
    all_ious = []
    for i, (gt, props) in enumerate(zip(gts, proposals)):
        props = np.asarray(props)
        if props.ndim != 2 or props.shape[1] not in (4, 5):
            raise ValueError(f"eval_recalls: proposals of image {i} must be ndarray[k, 4] or "
                             f"[k, 5], got shape {props.shape}")
        if props.shape[1] == 5:
            props = props[np.argsort(props[:, 4])[::-1], :]
        keep = min(props.shape[0], int(nums[-1]))
        if gt is None or gt.shape[0] == 0:
            ious = np.zeros((0, props.shape[0]), dtype=np.float32)
        else:
            ious = bbox_overlaps(gt, props[:keep, :4],
                                 use_legacy_coordinate=use_legacy_coordinate)
        all_ious.append(ious)
    if sum(x.shape[0] for x in all_ious) == 0:
        print_log("eval_recalls: there is no ground-truth box; recalls are reported as 0",
                  logger=logger if logger != "silent" else None, level=logging.WARNING)
    recalls = _recalls(all_ious, nums, thrs)
    print_recall_summary(recalls, nums, thrs, logger=logger)
    return recalls


def print_recall_summary(recalls: np.ndarray, proposal_nums: Sequence[int] | np.ndarray,
                         iou_thrs: Sequence[float] | np.ndarray,
                         row_idxs: np.ndarray | None = None, col_idxs: np.ndarray | None = None,
                         logger: logging.Logger | str | None = None) -> None:
    """Log recalls as a table: one row per proposal count, one column per IoU threshold."""
    if logger == "silent":
        return
    nums = np.array(proposal_nums, dtype=np.int32)
    thrs = np.array(iou_thrs)
    row_idxs = np.arange(nums.size) if row_idxs is None else row_idxs
    col_idxs = np.arange(thrs.size) if col_idxs is None else col_idxs
    rows: list[list] = [[""] + [f"{t:g}" for t in np.round(thrs[col_idxs], 4)]]
    for i, num in enumerate(nums[row_idxs]):
        rows.append([int(num)] + [f"{v:.3f}" for v in recalls[row_idxs[i], col_idxs].tolist()])
    print_log("\n" + format_table(rows), logger=logger)
