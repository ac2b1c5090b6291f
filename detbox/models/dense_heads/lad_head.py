"""``LADHead``: Label Assignment Distillation (Nguyen et al., 2022), MMDetection v2's names.

A :class:`PAAHead` whose positives come from another network: the teacher's head runs PAA's
assignment (MaxIoU candidates, per-candidate losses of the *teacher's* predictions, the
Gaussian-mixture split; :meth:`get_label_assignment`), and the student's head is trained on
those labels (:meth:`loss` with ``label_assignment_results``). The student's losses are PAA's
except that the GIoU term is averaged over the number of positives without PAA's IoU weights.
Test time is PAA's (score voting included).

>>> head = LADHead(num_classes=2, in_channels=8, feat_channels=8, stacked_convs=0,
...                anchor_generator=dict(type='AnchorGenerator', ratios=[1.0],
...                    octave_base_scale=8, scales_per_octave=1, strides=[8]))
>>> cls, reg, iou = head([torch.zeros(1, 8, 4, 4)])
>>> tuple(cls[0].shape), tuple(reg[0].shape), tuple(iou[0].shape)
((1, 2, 4, 4), (1, 4, 4, 4), (1, 1, 4, 4))
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ...registry import MODELS
from ..utils import force_fp32
from .paa_head import LabelAssignment, PAAHead

__all__ = ["LADHead", "LabelAssignment"]


@MODELS.register_module()
class LADHead(PAAHead):
    """PAA head that can take its label assignment from a teacher (same arguments as
    :class:`PAAHead`)."""

    @force_fp32
    def get_label_assignment(self, cls_scores: list[Tensor], bbox_preds: list[Tensor],
                             iou_preds: list[Tensor], gt_bboxes: list[Tensor],
                             gt_labels: list[Tensor], img_metas: list[dict],
                             gt_bboxes_ignore: list[Tensor] | None = None) -> LabelAssignment:
        """PAA's assignment from these (the teacher's) outputs, per level
        ``[B, C, H, W]``, ``[B, 4, H, W]``, ``[B, 1, H, W]``; see :class:`LabelAssignment`."""
        return self.paa_assignment(cls_scores, bbox_preds, gt_bboxes, gt_labels, img_metas,
                                   gt_bboxes_ignore)

    def forward_train(self, x: tuple[Tensor, ...], label_assignment_results: tuple,
                      img_metas: list[dict], gt_bboxes: list[Tensor],
                      gt_labels: list[Tensor] | None = None,
                      gt_bboxes_ignore: list[Tensor] | None = None, **kwargs: Any) -> dict:
        """Losses of the outputs on ``x`` under the given (teacher's) label assignment."""
        outs = self(x)
        if gt_labels is None:
            loss_inputs = outs + (gt_bboxes, img_metas)
        else:
            loss_inputs = outs + (gt_bboxes, gt_labels, img_metas)
        return self.loss(*loss_inputs, gt_bboxes_ignore=gt_bboxes_ignore,
                         label_assignment_results=label_assignment_results)

    @force_fp32
    def loss(self, cls_scores: list[Tensor], bbox_preds: list[Tensor], iou_preds: list[Tensor],
             gt_bboxes: list[Tensor], gt_labels: list[Tensor], img_metas: list[dict],
             gt_bboxes_ignore: list[Tensor] | None = None,
             label_assignment_results: tuple | None = None) -> dict:
        """``dict(loss_cls, loss_bbox, loss_iou)`` under ``label_assignment_results`` (the
        7-tuple of :meth:`get_label_assignment`); without it the head assigns from its own
        outputs."""
        if label_assignment_results is None:
            with torch.no_grad():
                label_assignment_results = self.get_label_assignment(
                    [s.detach() for s in cls_scores], [p.detach() for p in bbox_preds],
                    [p.detach() for p in iou_preds], gt_bboxes, gt_labels, img_metas,
                    gt_bboxes_ignore)
        return self.losses_of_assignment(cls_scores, bbox_preds, iou_preds,
                                         label_assignment_results, len(img_metas),
                                         iou_weighted_bbox=False)
