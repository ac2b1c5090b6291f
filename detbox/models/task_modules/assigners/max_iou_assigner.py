"""Assignment by IoU thresholds (``type='MaxIoUAssigner'``), in MMDetection v2's order of steps.

Given the IoUs of every ground truth with every box (``[K, N]``):

1. every box starts ignored (``gt_inds = -1``); boxes covered by an ignore region
   (``gt_bboxes_ignore``, IoF above ``ignore_iof_thr``) get IoU -1 with every ground truth;
2. boxes whose best IoU is in the negative range become negatives (0): ``[0, neg_iou_thr)``,
   or ``[lo, hi)`` when ``neg_iou_thr = (lo, hi)``;
3. boxes whose best IoU is ``>= pos_iou_thr`` take that ground truth (``j + 1``);
4. with ``match_low_quality``, every ground truth whose best IoU is ``>= min_pos_iou`` takes
   its best box(es) too, overriding steps 2 and 3; ground truths later in the list win ties.

>>> assigner = MaxIoUAssigner(pos_iou_thr=0.5, neg_iou_thr=0.5)
>>> boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [10.0, 10.0, 20.0, 20.0]])
>>> assigner.assign(boxes, torch.tensor([[0.0, 0.0, 10.0, 9.0]])).gt_inds
tensor([1, 0])
"""

from __future__ import annotations

from typing import Callable, Sequence, Union

import torch
from torch import Tensor

from detbox.registry import TASK_UTILS

from .assign_result import AssignResult
from .base_assigner import BaseAssigner

__all__ = ["MaxIoUAssigner"]

NegThr = Union[float, Sequence[float]]


@TASK_UTILS.register_module()
class MaxIoUAssigner(BaseAssigner):
    """Assign each box to the ground truth it overlaps most, by IoU thresholds.

    Args:
        pos_iou_thr: best IoU at or above which a box is positive.
        neg_iou_thr: best IoU below which a box is negative, or a ``(lo, hi)`` range of
            negative IoUs (``lo <= iou < hi``). Boxes in neither range stay ignored.
        min_pos_iou: smallest IoU at which step 4 still matches a ground truth to its best box.
        gt_max_assign_all: in step 4, give a ground truth every box that ties its best IoU
            (else only the first).
        ignore_iof_thr: IoF with ``gt_bboxes_ignore`` above which a box is ignored; negative
            turns this off.
        ignore_wrt_candidates: compute that IoF over the box's area (else over the ignore
            region's area).
        match_low_quality: run step 4 (used by RPN and one-stage heads, not by R-CNN).
        gpu_assign_thr: with more ground truths than this (if positive), compute on CPU.
        iou_calculator: the IoU calculator, or its config (built from ``TASK_UTILS``);
            ``BboxOverlaps2D`` by default.

    Note:
        MMDetection checks ``isinstance(neg_iou_thr, float)`` / ``tuple``, so an int
        (``neg_iou_thr=0``) or a list there silently gives no negatives; here any number is a
        threshold and any pair a range.
    """

    def __init__(self, pos_iou_thr: float, neg_iou_thr: NegThr, min_pos_iou: float = 0.0,
                 gt_max_assign_all: bool = True, ignore_iof_thr: float = -1,
                 ignore_wrt_candidates: bool = True, match_low_quality: bool = True,
                 gpu_assign_thr: int = -1,
                 iou_calculator: dict | Callable[..., Tensor] | None = None) -> None:
        if not isinstance(neg_iou_thr, (int, float)):
            neg_iou_thr = tuple(neg_iou_thr)
            if len(neg_iou_thr) != 2:
                raise AssertionError(f"MaxIoUAssigner: neg_iou_thr must be a number or a "
                                     f"(low, high) pair, got {neg_iou_thr}")
        self.pos_iou_thr = pos_iou_thr
        self.neg_iou_thr = neg_iou_thr
        self.min_pos_iou = min_pos_iou
        self.gt_max_assign_all = gt_max_assign_all
        self.ignore_iof_thr = ignore_iof_thr
        self.ignore_wrt_candidates = ignore_wrt_candidates
        self.gpu_assign_thr = gpu_assign_thr
        self.match_low_quality = match_low_quality
        if iou_calculator is None:
            iou_calculator = dict(type="BboxOverlaps2D")
        self.iou_calculator = (TASK_UTILS.build(iou_calculator)
                               if isinstance(iou_calculator, dict) else iou_calculator)

    def assign(self, bboxes: Tensor, gt_bboxes: Tensor, gt_bboxes_ignore: Tensor | None = None,
               gt_labels: Tensor | None = None) -> AssignResult:
        """Assign ground truths to boxes.

        Args:
            bboxes: ``Tensor[N, 4]`` xyxy candidates (anchors or proposals).
            gt_bboxes: ``Tensor[K, 4]`` xyxy ground truths.
            gt_bboxes_ignore: ``Tensor[L, 4]`` regions whose boxes are ignored (COCO crowds).
            gt_labels: ``Tensor[K]`` labels; if given, the result carries per-box labels.

        Returns:
            The :class:`AssignResult` (``gt_inds``: -1 ignore, 0 negative, ``j + 1`` positive).
        """
        assign_on_cpu = self.gpu_assign_thr > 0 and gt_bboxes.shape[0] > self.gpu_assign_thr
        if assign_on_cpu:
            device = bboxes.device
            bboxes, gt_bboxes = bboxes.cpu(), gt_bboxes.cpu()
            if gt_bboxes_ignore is not None:
                gt_bboxes_ignore = gt_bboxes_ignore.cpu()
            if gt_labels is not None:
                gt_labels = gt_labels.cpu()

        overlaps = self.iou_calculator(gt_bboxes, bboxes)  # [K, N]
        self._ignore_covered(overlaps, bboxes, gt_bboxes_ignore)
        result = self.assign_wrt_overlaps(overlaps, gt_labels)
        if assign_on_cpu:
            result.gt_inds = result.gt_inds.to(device)
            result.max_overlaps = result.max_overlaps.to(device)
            if result.labels is not None:
                result.labels = result.labels.to(device)
        return result

    def _ignore_covered(self, overlaps: Tensor, bboxes: Tensor,
                        gt_bboxes_ignore: Tensor | None) -> None:
        """Step 1 (in place): boxes covered by an ignore region get IoU -1 with every gt.

        ``overlaps: Tensor[K, N]``, ``bboxes: Tensor[N, 4]``, ``gt_bboxes_ignore: Tensor[L, 4]``.
        """
        if (self.ignore_iof_thr > 0 and gt_bboxes_ignore is not None
                and gt_bboxes_ignore.numel() > 0 and bboxes.numel() > 0):
            if self.ignore_wrt_candidates:
                ignore_overlaps = self.iou_calculator(bboxes, gt_bboxes_ignore, mode="iof")
                ignore_max_overlaps, _ = ignore_overlaps.max(dim=1)
            else:
                ignore_overlaps = self.iou_calculator(gt_bboxes_ignore, bboxes, mode="iof")
                ignore_max_overlaps, _ = ignore_overlaps.max(dim=0)
            overlaps[:, ignore_max_overlaps > self.ignore_iof_thr] = -1

    def assign_wrt_overlaps(self, overlaps: Tensor,
                            gt_labels: Tensor | None = None) -> AssignResult:
        """Assign from precomputed IoUs ``overlaps: Tensor[K, N]`` (ground truths x boxes)."""
        num_gts, num_bboxes = overlaps.size(0), overlaps.size(1)
        assigned_gt_inds = overlaps.new_full((num_bboxes,), -1, dtype=torch.long)

        if num_gts == 0 or num_bboxes == 0:
            max_overlaps = overlaps.new_zeros((num_bboxes,))
            if num_gts == 0:
                assigned_gt_inds[:] = 0
            labels = (None if gt_labels is None
                      else overlaps.new_full((num_bboxes,), -1, dtype=torch.long))
            return AssignResult(num_gts, assigned_gt_inds, max_overlaps, labels=labels)

        max_overlaps, argmax_overlaps = overlaps.max(dim=0)  # best gt of each box
        gt_max_overlaps, gt_argmax_overlaps = overlaps.max(dim=1)  # best box of each gt

        if isinstance(self.neg_iou_thr, tuple):
            low, high = self.neg_iou_thr
            assigned_gt_inds[(max_overlaps >= low) & (max_overlaps < high)] = 0
        else:
            assigned_gt_inds[(max_overlaps >= 0) & (max_overlaps < self.neg_iou_thr)] = 0

        pos_inds = max_overlaps >= self.pos_iou_thr
        assigned_gt_inds[pos_inds] = argmax_overlaps[pos_inds] + 1

        if self.match_low_quality:
            self._match_low_quality(overlaps, gt_max_overlaps, gt_argmax_overlaps,
                                    assigned_gt_inds)

        labels = None
        if gt_labels is not None:
            labels = assigned_gt_inds.new_full((num_bboxes,), -1)
            pos = torch.nonzero(assigned_gt_inds > 0, as_tuple=False).squeeze()
            if pos.numel() > 0:
                labels[pos] = gt_labels[assigned_gt_inds[pos] - 1]
        return AssignResult(num_gts, assigned_gt_inds, max_overlaps, labels=labels)

    def _match_low_quality(self, overlaps: Tensor, gt_max_overlaps: Tensor,
                           gt_argmax_overlaps: Tensor, assigned_gt_inds: Tensor) -> None:
        """Step 4 (in place): each ground truth takes its best box(es); later ones win ties."""
        qualified = gt_max_overlaps >= self.min_pos_iou  # [K]
        if self.gt_max_assign_all:
            # v2 loops over the ground truths in order, each overwriting the boxes that tie its
            # best IoU; the last qualifying ground truth of each box is the one that sticks.
            hits = (overlaps == gt_max_overlaps[:, None]) & qualified[:, None]  # [K, N]
            gt_ids = torch.arange(1, overlaps.size(0) + 1, device=overlaps.device)
            last = (hits.long() * gt_ids[:, None]).max(dim=0).values  # [N], 0 where none
            assigned_gt_inds[last > 0] = last[last > 0]
        else:
            for i in torch.nonzero(qualified, as_tuple=False).view(-1).tolist():
                assigned_gt_inds[gt_argmax_overlaps[i]] = i + 1
