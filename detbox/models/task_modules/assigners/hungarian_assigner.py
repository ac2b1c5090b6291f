"""``HungarianAssigner``: one-to-one matching of predictions to ground truths (DETR).

The cost of a (prediction, ground truth) pair is the sum of a classification cost, an L1 box
cost on normalised boxes and an IoU cost on pixel boxes; SciPy's ``linear_sum_assignment``
finds the matching of least total cost. Matched predictions get their ground truth, all
others are background.
"""

from __future__ import annotations

import torch
from scipy.optimize import linear_sum_assignment
from torch import Tensor

from detbox.ops import bbox_cxcywh_to_xyxy
from detbox.registry import TASK_UTILS

from .assign_result import AssignResult
from .base_assigner import BaseAssigner

__all__ = ["HungarianAssigner"]


@TASK_UTILS.register_module()
class HungarianAssigner(BaseAssigner):
    """Bipartite matching between predictions and ground truths.

    Args:
        cls_cost: classification cost config (``ClassificationCost``, ``FocalLossCost``).
        reg_cost: box cost config (``BBoxL1Cost``), on boxes normalised by the image size.
        iou_cost: IoU cost config (``IoUCost``), on pixel boxes.
    """

    def __init__(self, cls_cost: dict | None = None, reg_cost: dict | None = None,
                 iou_cost: dict | None = None) -> None:
        self.cls_cost = TASK_UTILS.build(cls_cost or dict(type="ClassificationCost", weight=1.0))
        self.reg_cost = TASK_UTILS.build(reg_cost or dict(type="BBoxL1Cost", weight=1.0))
        self.iou_cost = TASK_UTILS.build(iou_cost or dict(type="IoUCost", iou_mode="giou",
                                                          weight=1.0))

    def assign(self, bbox_pred: Tensor, cls_pred: Tensor, gt_bboxes: Tensor,
               gt_labels: Tensor, img_meta: dict, gt_bboxes_ignore: Tensor | None = None,
               eps: float = 1e-7) -> AssignResult:
        """Match one image's predictions.

        Args:
            bbox_pred: ``Tensor[N, 4]``, normalised ``cx, cy, w, h``.
            cls_pred: ``Tensor[N, C]`` logits.
            gt_bboxes: ``Tensor[M, 4]``, pixel ``x1, y1, x2, y2``.
            gt_labels: ``Tensor[M]``.
            img_meta: its ``img_shape`` ``(h, w, c)`` normalises the boxes.
            gt_bboxes_ignore: must be ``None``.
            eps: unused (MMDetection's signature).

        Returns:
            ``AssignResult`` with ``gt_inds`` 0 (background) or ``j + 1`` and the labels of
            matched predictions (-1 elsewhere); ``max_overlaps`` is ``None``.
        """
        if gt_bboxes_ignore is not None:
            raise ValueError("HungarianAssigner only supports gt_bboxes_ignore=None")
        num_gts, num_bboxes = gt_bboxes.size(0), bbox_pred.size(0)
        assigned_gt_inds = bbox_pred.new_full((num_bboxes,), -1, dtype=torch.long)
        assigned_labels = bbox_pred.new_full((num_bboxes,), -1, dtype=torch.long)
        if num_gts == 0 or num_bboxes == 0:
            if num_gts == 0:
                assigned_gt_inds[:] = 0
            return AssignResult(num_gts, assigned_gt_inds, None, labels=assigned_labels)
        img_h, img_w, _ = img_meta["img_shape"]
        factor = gt_bboxes.new_tensor([img_w, img_h, img_w, img_h]).unsqueeze(0)
        cost = (self.cls_cost(cls_pred, gt_labels)
                + self.reg_cost(bbox_pred, gt_bboxes / factor)
                + self.iou_cost(bbox_cxcywh_to_xyxy(bbox_pred) * factor, gt_bboxes))
        rows, cols = linear_sum_assignment(cost.detach().cpu())
        rows = torch.from_numpy(rows).to(bbox_pred.device)
        cols = torch.from_numpy(cols).to(bbox_pred.device)
        assigned_gt_inds[:] = 0
        assigned_gt_inds[rows] = cols + 1
        assigned_labels[rows] = gt_labels[cols]
        return AssignResult(num_gts, assigned_gt_inds, None, labels=assigned_labels)
