"""YOLOF's uniform matching (``type='UniformAssigner'``), MMDetection v2's.

Every ground truth takes its ``match_times`` nearest predicted boxes and its ``match_times``
nearest anchors (L1 distance of ``(cx, cy, w, h)``), so large and small objects get the same
number of positives. Matches whose anchor IoU is below ``pos_ignore_thr`` are ignored instead;
unmatched predictions whose best IoU with any ground truth exceeds ``neg_ignore_thr`` are
ignored too. Extra properties of the result, for the box loss: ``pos_idx`` (bool per match),
``pos_predicted_boxes`` and ``target_boxes`` (``Tensor[2 * match_times * K, 4]``, matches in
the order ``[pred matches of all gts, anchor matches of all gts]`` per rank).

>>> assigner = UniformAssigner(0.15, 0.7, match_times=1)
>>> anchors = torch.tensor([[0.0, 0.0, 10.0, 10.0], [20.0, 20.0, 30.0, 30.0]])
>>> assigner.assign(anchors, anchors, torch.tensor([[1.0, 1.0, 10.0, 10.0]])).gt_inds
tensor([1, 0])
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from detbox.ops import bbox_xyxy_to_cxcywh
from detbox.registry import TASK_UTILS

from .assign_result import AssignResult
from .base_assigner import BaseAssigner

__all__ = ["UniformAssigner"]


@TASK_UTILS.register_module()
class UniformAssigner(BaseAssigner):
    """Each ground truth takes its k nearest predictions and k nearest anchors.

    Args:
        pos_ignore_thr: a match whose anchor IoU is below this is ignored, not positive.
        neg_ignore_thr: a prediction whose best IoU is above this is ignored, not negative.
        match_times: ``k``.
        iou_calculator: IoU calculator config (``BboxOverlaps2D``) or callable.
    """

    def __init__(self, pos_ignore_thr: float, neg_ignore_thr: float, match_times: int = 4,
                 iou_calculator: dict | Callable[..., Tensor] | None = None) -> None:
        self.match_times = match_times
        self.pos_ignore_thr = pos_ignore_thr
        self.neg_ignore_thr = neg_ignore_thr
        if iou_calculator is None:
            iou_calculator = dict(type="BboxOverlaps2D")
        self.iou_calculator = (TASK_UTILS.build(iou_calculator)
                               if isinstance(iou_calculator, dict) else iou_calculator)

    def assign(self, bbox_pred: Tensor, anchor: Tensor, gt_bboxes: Tensor,  # type: ignore[override]
               gt_bboxes_ignore: Tensor | None = None,
               gt_labels: Tensor | None = None) -> AssignResult:
        """Assign decoded predictions ``Tensor[N, 4]`` (and their anchors ``Tensor[N, 4]``) to
        ground truths ``Tensor[K, 4]``."""
        num_gts, num_bboxes = gt_bboxes.size(0), bbox_pred.size(0)
        gt_inds = bbox_pred.new_full((num_bboxes,), 0, dtype=torch.long)
        labels = bbox_pred.new_full((num_bboxes,), -1, dtype=torch.long)
        if num_gts == 0 or num_bboxes == 0:
            result = AssignResult(num_gts, gt_inds, None, labels=labels)
            result.set_extra_property("pos_idx", bbox_pred.new_empty(0, dtype=torch.bool))
            result.set_extra_property("pos_predicted_boxes", bbox_pred.new_empty((0, 4)))
            result.set_extra_property("target_boxes", bbox_pred.new_empty((0, 4)))
            return result
        gt_cxcywh = bbox_xyxy_to_cxcywh(gt_bboxes)
        cost_pred = torch.cdist(bbox_xyxy_to_cxcywh(bbox_pred), gt_cxcywh, p=1).cpu()  # [N, K]
        cost_anchor = torch.cdist(bbox_xyxy_to_cxcywh(anchor), gt_cxcywh, p=1).cpu()
        index_pred = torch.topk(cost_pred, k=self.match_times, dim=0, largest=False)[1]
        index_anchor = torch.topk(cost_anchor, k=self.match_times, dim=0, largest=False)[1]
        indexes = torch.cat((index_pred, index_anchor), dim=1).reshape(-1).to(bbox_pred.device)
        pred_overlaps = self.iou_calculator(bbox_pred, gt_bboxes)  # [N, K]
        anchor_overlaps = self.iou_calculator(anchor, gt_bboxes)
        pred_max_overlaps, _ = pred_overlaps.max(dim=1)
        anchor_max_overlaps, _ = anchor_overlaps.max(dim=0)
        gt_inds[pred_max_overlaps > self.neg_ignore_thr] = -1
        pos_gt_index = torch.arange(0, num_gts, device=bbox_pred.device).repeat(
            self.match_times * 2)
        pos_ious = anchor_overlaps[indexes, pos_gt_index]
        pos_ignore = pos_ious < self.pos_ignore_thr
        pos_gt_index_with_ignore = pos_gt_index + 1
        pos_gt_index_with_ignore[pos_ignore] = -1
        gt_inds[indexes] = pos_gt_index_with_ignore
        if gt_labels is not None:
            labels = gt_inds.new_full((num_bboxes,), -1)
            pos = torch.nonzero(gt_inds > 0, as_tuple=False).squeeze()
            if pos.numel() > 0:
                labels[pos] = gt_labels[gt_inds[pos] - 1]
        else:
            labels = None
        result = AssignResult(num_gts, gt_inds, anchor_max_overlaps, labels=labels)
        result.set_extra_property("pos_idx", ~pos_ignore)
        result.set_extra_property("pos_predicted_boxes", bbox_pred[indexes])
        result.set_extra_property("target_boxes", gt_bboxes[pos_gt_index])
        return result
