"""YOLOv3's assignment (``type='GridAssigner'``): max-IoU, restricted to responsible cells.

Given the IoUs of every ground truth with every anchor (``[K, N]``) and the anchors'
responsible flags (anchors of the cells holding a ground-truth center):

1. every anchor starts ignored (-1);
2. anchors whose best IoU (over all anchors, responsible or not) is in the negative range
   become negatives (0): ``[0, neg_iou_thr]``, or ``(lo, hi]`` for a pair;
3. IoUs of non-responsible anchors are set to -1; responsible anchors whose best remaining IoU
   is above ``pos_iou_thr`` take that ground truth;
4. every ground truth whose best remaining IoU is above ``min_pos_iou`` takes its best
   responsible anchor(s) (all ties with ``gt_max_assign_all``); later ground truths win.

>>> assigner = GridAssigner(pos_iou_thr=0.5, neg_iou_thr=0.5)
>>> anchors = torch.tensor([[0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 10.0, 10.0]])
>>> flags = torch.tensor([1, 0], dtype=torch.uint8)
>>> assigner.assign(anchors, flags, torch.tensor([[0.0, 0.0, 10.0, 9.0]])).gt_inds
tensor([ 1, -1])
"""

from __future__ import annotations

from typing import Callable, Sequence, Union

import torch
from torch import Tensor

from detbox.registry import TASK_UTILS

from .assign_result import AssignResult
from .base_assigner import BaseAssigner

__all__ = ["GridAssigner"]

NegThr = Union[float, Sequence[float]]


@TASK_UTILS.register_module()
class GridAssigner(BaseAssigner):
    """Assign each responsible anchor to the ground truth it overlaps most.

    Args:
        pos_iou_thr: best IoU above which a responsible anchor is positive.
        neg_iou_thr: best IoU at or below which an anchor is negative, or a ``(lo, hi)`` range.
        min_pos_iou: a ground truth takes its best responsible anchor if their IoU is above it.
        gt_max_assign_all: in step 4, give a ground truth every anchor tying its best IoU.
        iou_calculator: the IoU calculator or its config (``BboxOverlaps2D`` by default).

    Note:
        MMDetection tests ``isinstance(neg_iou_thr, float)`` / ``(tuple, list)``; an int there
        silently gives no negatives. Here any number is a threshold.
    """

    def __init__(self, pos_iou_thr: float, neg_iou_thr: NegThr, min_pos_iou: float = 0.0,
                 gt_max_assign_all: bool = True,
                 iou_calculator: dict | Callable[..., Tensor] | None = None) -> None:
        if not isinstance(neg_iou_thr, (int, float)):
            neg_iou_thr = tuple(neg_iou_thr)
            if len(neg_iou_thr) != 2:
                raise AssertionError("GridAssigner: neg_iou_thr must be a number or a "
                                     f"(low, high) pair, got {neg_iou_thr}")
        self.pos_iou_thr = pos_iou_thr
        self.neg_iou_thr = neg_iou_thr
        self.min_pos_iou = min_pos_iou
        self.gt_max_assign_all = gt_max_assign_all
        if iou_calculator is None:
            iou_calculator = dict(type="BboxOverlaps2D")
        self.iou_calculator = (TASK_UTILS.build(iou_calculator)
                               if isinstance(iou_calculator, dict) else iou_calculator)

    def assign(self, bboxes: Tensor, box_responsible_flags: Tensor,  # type: ignore[override]
               gt_bboxes: Tensor, gt_labels: Tensor | None = None) -> AssignResult:
        """Assign ground truths to anchors.

        Args:
            bboxes: ``Tensor[N, 4]`` xyxy anchors.
            box_responsible_flags: ``Tensor[N]`` (bool or uint8) responsible anchors.
            gt_bboxes: ``Tensor[K, 4]`` xyxy ground truths.
            gt_labels: ``Tensor[K]``; if given, the result carries per-anchor labels.

        Returns:
            The :class:`AssignResult` (``gt_inds``: -1 ignore, 0 negative, ``j + 1`` positive).
        """
        num_gts, num_bboxes = gt_bboxes.size(0), bboxes.size(0)
        overlaps = self.iou_calculator(gt_bboxes, bboxes)
        gt_inds = overlaps.new_full((num_bboxes,), -1, dtype=torch.long)
        if num_gts == 0 or num_bboxes == 0:
            if num_gts == 0:
                gt_inds[:] = 0
            labels = (None if gt_labels is None
                      else overlaps.new_full((num_bboxes,), -1, dtype=torch.long))
            return AssignResult(num_gts, gt_inds, overlaps.new_zeros((num_bboxes,)),
                                labels=labels)
        max_overlaps, _ = overlaps.max(dim=0)
        if isinstance(self.neg_iou_thr, tuple):
            lo, hi = self.neg_iou_thr
            gt_inds[(max_overlaps > lo) & (max_overlaps <= hi)] = 0
        else:
            gt_inds[(max_overlaps >= 0) & (max_overlaps <= self.neg_iou_thr)] = 0
        responsible = box_responsible_flags.bool()
        overlaps[:, ~responsible] = -1.0
        max_overlaps, argmax_overlaps = overlaps.max(dim=0)
        gt_max_overlaps, gt_argmax_overlaps = overlaps.max(dim=1)
        pos = (max_overlaps > self.pos_iou_thr) & responsible
        gt_inds[pos] = argmax_overlaps[pos] + 1
        for i in range(num_gts):
            if gt_max_overlaps[i] > self.min_pos_iou:
                if self.gt_max_assign_all:
                    gt_inds[(overlaps[i, :] == gt_max_overlaps[i]) & responsible] = i + 1
                elif responsible[gt_argmax_overlaps[i]]:
                    gt_inds[gt_argmax_overlaps[i]] = i + 1
        labels = None
        if gt_labels is not None:
            labels = gt_inds.new_full((num_bboxes,), -1)
            pos_inds = torch.nonzero(gt_inds > 0, as_tuple=False).squeeze(1)
            if pos_inds.numel() > 0:
                labels[pos_inds] = gt_labels[gt_inds[pos_inds] - 1]
        return AssignResult(num_gts, gt_inds, max_overlaps, labels=labels)
