"""Adaptive Training Sample Selection (``type='ATSSAssigner'``; Zhang et al., 2020).

For every ground truth:

1. on each pyramid level, the ``topk`` boxes whose centers are closest (L2) to the ground
   truth's center become candidates (``topk * num_levels`` in all);
2. the IoU threshold of that ground truth is the mean plus the (unbiased) standard deviation
   of its candidates' IoUs;
3. candidates with IoU ``>=`` the threshold whose centers lie inside the ground truth (by more
   than 0.01 px on every side) are positives for it.

A box positive for several ground truths takes the one it overlaps most. All other boxes are
negatives (``gt_inds = 0``), except boxes covered by ``gt_bboxes_ignore`` (IoF above
``ignore_iof_thr``), which are ignored (-1) and kept out of the candidates.

>>> assigner = ATSSAssigner(topk=3)
>>> boxes = torch.tensor([[0.0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]])
>>> assigner.assign(boxes, [3], torch.tensor([[0.0, 0, 10, 10]])).gt_inds  # thr 0.44 + 0.51
tensor([1, 0, 0])
"""

from __future__ import annotations

import warnings
from typing import Callable, Sequence

import torch
from torch import Tensor

from detbox.registry import TASK_UTILS

from .assign_result import AssignResult
from .base_assigner import BaseAssigner

__all__ = ["ATSSAssigner", "centers_inside_gts", "max_overlap_of_positives"]

INF = 100000000


def centers_inside_gts(centers_x: Tensor, centers_y: Tensor, candidate_idxs: Tensor,
                       gt_bboxes: Tensor, eps: float = 0.01) -> Tensor:
    """Whether each candidate's center lies inside its ground truth by more than ``eps``.

    Args:
        centers_x: ``Tensor[N]`` x of the boxes' centers (``centers_y`` likewise).
        centers_y: ``Tensor[N]``.
        candidate_idxs: ``Tensor[C, K]`` indices into the ``N`` boxes, column ``k`` for
            ground truth ``k``.
        gt_bboxes: ``Tensor[K, 4]`` xyxy.

    Returns:
        ``Tensor[C, K]`` bool.
    """
    cand_cx = centers_x[candidate_idxs]  # [C, K]
    cand_cy = centers_y[candidate_idxs]
    sides = torch.stack([cand_cx - gt_bboxes[:, 0], cand_cy - gt_bboxes[:, 1],
                         gt_bboxes[:, 2] - cand_cx, gt_bboxes[:, 3] - cand_cy], dim=1)
    return sides.min(dim=1).values > eps


def max_overlap_of_positives(overlaps: Tensor, candidate_idxs: Tensor, is_pos: Tensor
                             ) -> tuple[Tensor, Tensor]:
    """For each box, its best overlap among the ground truths it is a positive candidate of.

    Args:
        overlaps: ``Tensor[N, K]`` overlaps of the boxes with the ground truths.
        candidate_idxs: ``Tensor[C, K]`` candidate boxes of each ground truth.
        is_pos: ``Tensor[C, K]`` which candidates are positives.

    Returns:
        ``(max_overlaps: Tensor[N], argmax: Tensor[N])``; ``max_overlaps`` is ``-INF`` for
        boxes that are positive for no ground truth.
    """
    num_bboxes, num_gt = overlaps.shape
    flat_idxs = candidate_idxs + torch.arange(num_gt, device=overlaps.device) * num_bboxes
    overlaps_inf = torch.full_like(overlaps, -INF).t().contiguous().view(-1)  # [K * N]
    index = flat_idxs.view(-1)[is_pos.view(-1)]
    overlaps_inf[index] = overlaps.t().contiguous().view(-1)[index]
    return overlaps_inf.view(num_gt, -1).t().max(dim=1)  # over [N, K]


@TASK_UTILS.register_module()
class ATSSAssigner(BaseAssigner):
    """Assign boxes (anchors) to ground truths by adaptive IoU thresholds.

    Args:
        topk: candidates per level per ground truth.
        alpha: if set, the "IoU" of step 2 is ``sigmoid(cls_score) ** (1 - alpha) *
            IoU(predicted box, gt) ** alpha`` (DDOD's dynamic cost); ``assign`` then needs
            ``cls_scores`` and ``bbox_preds``.
        iou_calculator: the IoU calculator or its config; ``BboxOverlaps2D`` by default.
        ignore_iof_thr: IoF with ``gt_bboxes_ignore`` above which a box is left out;
            negative turns this off.
    """

    def __init__(self, topk: int, alpha: float | None = None,
                 iou_calculator: dict | Callable[..., Tensor] | None = None,
                 ignore_iof_thr: float = -1) -> None:
        self.topk = topk
        self.alpha = alpha
        if iou_calculator is None:
            iou_calculator = dict(type="BboxOverlaps2D")
        self.iou_calculator = (TASK_UTILS.build(iou_calculator)
                               if isinstance(iou_calculator, dict) else iou_calculator)
        self.ignore_iof_thr = ignore_iof_thr

    def _overlaps(self, bboxes: Tensor, gt_bboxes: Tensor, gt_labels: Tensor | None,
                  cls_scores: Tensor | None, bbox_preds: Tensor | None) -> Tensor:
        if self.alpha is None:
            if cls_scores is not None or bbox_preds is not None:
                warnings.warn("ATSSAssigner: cls_scores and bbox_preds are used only with "
                              "alpha set; they are ignored", stacklevel=3)
            return self.iou_calculator(bboxes, gt_bboxes)
        if cls_scores is None or bbox_preds is None:
            raise AssertionError("ATSSAssigner with alpha set needs cls_scores and bbox_preds")
        cls_cost = torch.sigmoid(cls_scores[:, gt_labels])
        overlaps = self.iou_calculator(bbox_preds, gt_bboxes)
        return cls_cost ** (1 - self.alpha) * overlaps ** self.alpha

    def assign(self, bboxes: Tensor, num_level_bboxes: Sequence[int], gt_bboxes: Tensor,
               gt_bboxes_ignore: Tensor | None = None, gt_labels: Tensor | None = None,
               cls_scores: Tensor | None = None, bbox_preds: Tensor | None = None
               ) -> AssignResult:
        """Assign ``bboxes`` to ``gt_bboxes``.

        Args:
            bboxes: ``Tensor[N, 4]`` xyxy boxes of all levels, level by level.
            num_level_bboxes: how many of ``bboxes`` each level has (sums to ``N``).
            gt_bboxes: ``Tensor[K, 4]`` xyxy ground truths.
            gt_bboxes_ignore: ``Tensor[G, 4]`` regions whose boxes are left out.
            gt_labels: ``Tensor[K]`` labels, copied to the result.
            cls_scores: ``Tensor[N, C]`` logits (only with ``alpha``).
            bbox_preds: ``Tensor[N, 4]`` decoded predictions (only with ``alpha``).

        Returns:
            The assignment; ``max_overlaps`` is the IoU with the assigned ground truth
            (``-INF`` for boxes that are not positive).
        """
        bboxes = bboxes[:, :4]
        num_gt, num_bboxes = gt_bboxes.size(0), bboxes.size(0)
        overlaps = self._overlaps(bboxes, gt_bboxes, gt_labels, cls_scores, bbox_preds)
        assigned_gt_inds = overlaps.new_full((num_bboxes,), 0, dtype=torch.long)
        if num_gt == 0 or num_bboxes == 0:
            max_overlaps = overlaps.new_zeros((num_bboxes,))
            labels = (None if gt_labels is None
                      else overlaps.new_full((num_bboxes,), -1, dtype=torch.long))
            return AssignResult(num_gt, assigned_gt_inds, max_overlaps, labels=labels)

        gt_points = torch.stack(((gt_bboxes[:, 0] + gt_bboxes[:, 2]) / 2.0,
                                 (gt_bboxes[:, 1] + gt_bboxes[:, 3]) / 2.0), dim=1)  # [K, 2]
        bboxes_cx = (bboxes[:, 0] + bboxes[:, 2]) / 2.0
        bboxes_cy = (bboxes[:, 1] + bboxes[:, 3]) / 2.0
        points = torch.stack((bboxes_cx, bboxes_cy), dim=1)  # [N, 2]
        distances = (points[:, None, :] - gt_points[None, :, :]).pow(2).sum(-1).sqrt()  # [N, K]

        if (self.ignore_iof_thr > 0 and gt_bboxes_ignore is not None
                and gt_bboxes_ignore.numel() > 0 and bboxes.numel() > 0):
            ignore_overlaps = self.iou_calculator(bboxes, gt_bboxes_ignore, mode="iof")
            ignored = ignore_overlaps.max(dim=1).values > self.ignore_iof_thr
            distances[ignored, :] = INF
            assigned_gt_inds[ignored] = -1

        # step 1: the topk closest centers of each level, per ground truth
        candidate_idxs = []
        start = 0
        for count in num_level_bboxes:
            end = start + count
            k = min(self.topk, count)
            _, idxs = distances[start:end, :].topk(k, dim=0, largest=False)  # [k, K]
            candidate_idxs.append(idxs + start)
            start = end
        candidate_idxs = torch.cat(candidate_idxs, dim=0)  # [C, K]

        # step 2: adaptive threshold mean + std of the candidates' IoUs
        candidate_overlaps = overlaps[candidate_idxs, torch.arange(num_gt)]  # [C, K]
        threshold = candidate_overlaps.mean(0) + candidate_overlaps.std(0)
        is_pos = candidate_overlaps >= threshold[None, :]

        # step 3: the candidate's center must lie inside the ground truth
        is_pos = is_pos & centers_inside_gts(bboxes_cx, bboxes_cy, candidate_idxs, gt_bboxes)

        # a box positive for several ground truths takes the one of highest IoU
        max_overlaps, argmax_overlaps = max_overlap_of_positives(overlaps, candidate_idxs, is_pos)
        positive = max_overlaps != -INF
        assigned_gt_inds[positive] = argmax_overlaps[positive] + 1

        labels = None
        if gt_labels is not None:
            labels = assigned_gt_inds.new_full((num_bboxes,), -1)
            pos_inds = torch.nonzero(assigned_gt_inds > 0, as_tuple=False).squeeze(1)
            if pos_inds.numel() > 0:
                labels[pos_inds] = gt_labels[assigned_gt_inds[pos_inds] - 1]
        return AssignResult(num_gt, assigned_gt_inds, max_overlaps, labels=labels)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(topk={self.topk}, alpha={self.alpha}, "
                f"ignore_iof_thr={self.ignore_iof_thr})")
