"""Task-aligned assignment of TOOD (Feng et al., 2021; ``type='TaskAlignedAssigner'``).

For every prediction ``i`` and ground truth ``k`` the alignment metric is
``t = s ** alpha * u ** beta``: ``s`` the predicted probability of ``k``'s class, ``u`` the IoU
of the predicted box with ``k`` (both detached). Per ground truth the ``topk`` predictions of
highest ``t`` (over all levels) are candidates; candidates with ``t > 0`` whose anchor center
lies inside the ground truth are positives. A prediction positive for several ground truths
takes the one it overlaps most, and records its metric in ``assign_metrics``.

>>> assigner = TaskAlignedAssigner(topk=2)
>>> anchors = torch.tensor([[0.0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]])
>>> result = assigner.assign(torch.tensor([[0.9], [0.5], [0.9]]), anchors.clone(), anchors,
...                          torch.tensor([[0.0, 0, 12, 10]]), gt_labels=torch.tensor([0]))
>>> result.gt_inds, result.assign_metrics
(tensor([1, 1, 0]), tensor([0.3014, 0.0052, 0.0000]))
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from detbox.registry import TASK_UTILS

from .assign_result import AssignResult
from .atss_assigner import INF, centers_inside_gts, max_overlap_of_positives
from .base_assigner import BaseAssigner

__all__ = ["TaskAlignedAssigner"]


@TASK_UTILS.register_module()
class TaskAlignedAssigner(BaseAssigner):
    """Assign predictions to ground truths by the task-alignment metric.

    Args:
        topk: candidates per ground truth (over all levels; at least 1).
        iou_calculator: the IoU calculator or its config; ``BboxOverlaps2D`` by default.
    """

    def __init__(self, topk: int,
                 iou_calculator: dict | Callable[..., Tensor] | None = None) -> None:
        if topk < 1:
            raise AssertionError(f"TaskAlignedAssigner: topk must be >= 1, got {topk}")
        self.topk = topk
        if iou_calculator is None:
            iou_calculator = dict(type="BboxOverlaps2D")
        self.iou_calculator = (TASK_UTILS.build(iou_calculator)
                               if isinstance(iou_calculator, dict) else iou_calculator)

    def assign(self, pred_scores: Tensor, decode_bboxes: Tensor, anchors: Tensor,
               gt_bboxes: Tensor, gt_bboxes_ignore: Tensor | None = None,
               gt_labels: Tensor | None = None, alpha: float = 1, beta: float = 6
               ) -> AssignResult:
        """Assign the ``N`` predictions to the ``K`` ground truths.

        Args:
            pred_scores: ``Tensor[N, C]`` class probabilities.
            decode_bboxes: ``Tensor[N, 4]`` predicted xyxy boxes.
            anchors: ``Tensor[N, 4]`` xyxy priors (their centers must lie in the ground truth).
            gt_bboxes: ``Tensor[K, 4]`` xyxy.
            gt_bboxes_ignore: unused (as in MMDetection).
            gt_labels: ``Tensor[K]`` labels (needed for the scores; copied to the result).
            alpha: exponent of the score in the metric.
            beta: exponent of the IoU in the metric.

        Returns:
            The assignment, with ``assign_metrics: Tensor[N]`` (0 for negatives) and
            ``max_overlaps`` the IoU with the assigned ground truth (``-INF`` elsewhere).
        """
        anchors = anchors[:, :4]
        num_gt, num_bboxes = gt_bboxes.size(0), anchors.size(0)
        overlaps = self.iou_calculator(decode_bboxes, gt_bboxes).detach()  # [N, K]
        bbox_scores = pred_scores[:, gt_labels].detach()  # [N, K]
        assigned_gt_inds = anchors.new_full((num_bboxes,), 0, dtype=torch.long)
        assign_metrics = anchors.new_zeros((num_bboxes,))
        if num_gt == 0 or num_bboxes == 0:
            labels = (None if gt_labels is None
                      else anchors.new_full((num_bboxes,), -1, dtype=torch.long))
            result = AssignResult(num_gt, assigned_gt_inds, anchors.new_zeros((num_bboxes,)),
                                  labels=labels)
            result.assign_metrics = assign_metrics
            return result

        alignment_metrics = bbox_scores ** alpha * overlaps ** beta  # [N, K]
        topk = min(self.topk, num_bboxes)
        _, candidate_idxs = alignment_metrics.topk(topk, dim=0, largest=True)  # [k, K]
        candidate_metrics = alignment_metrics[candidate_idxs, torch.arange(num_gt)]
        centers_x = (anchors[:, 0] + anchors[:, 2]) / 2.0
        centers_y = (anchors[:, 1] + anchors[:, 3]) / 2.0
        is_pos = (candidate_metrics > 0) & centers_inside_gts(centers_x, centers_y,
                                                               candidate_idxs, gt_bboxes)
        max_overlaps, argmax_overlaps = max_overlap_of_positives(overlaps, candidate_idxs, is_pos)
        positive = max_overlaps != -INF
        assigned_gt_inds[positive] = argmax_overlaps[positive] + 1
        assign_metrics[positive] = alignment_metrics[positive, argmax_overlaps[positive]]

        labels = None
        if gt_labels is not None:
            labels = assigned_gt_inds.new_full((num_bboxes,), -1)
            pos_inds = torch.nonzero(assigned_gt_inds > 0, as_tuple=False).squeeze(1)
            if pos_inds.numel() > 0:
                labels[pos_inds] = gt_labels[assigned_gt_inds[pos_inds] - 1]
        result = AssignResult(num_gt, assigned_gt_inds, max_overlaps, labels=labels)
        result.assign_metrics = assign_metrics
        return result

    def __repr__(self) -> str:
        return f"{type(self).__name__}(topk={self.topk})"
