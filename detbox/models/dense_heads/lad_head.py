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

from typing import Any, NamedTuple

import torch
from torch import Tensor

from ...ops import bbox_overlaps
from ...registry import MODELS
from ..utils import force_fp32, multi_apply
from .paa_head import PAAHead
from .yolof_head import levels_to_images

__all__ = ["LADHead", "LabelAssignment"]


class LabelAssignment(NamedTuple):
    """The teacher's assignment over the batch's anchors (images concatenated, ``A`` in all).

    MMDetection passes it as a plain 7-tuple in this order.
    """

    labels: Tensor  # [A] class index, num_classes for background
    labels_weight: Tensor  # [A]
    bboxes_target: Tensor  # [A, 4] xyxy
    bboxes_weight: list  # per image [A_i, 4] (before the re-assignment; unused by the loss)
    pos_inds_flatten: Tensor  # [P] indices of the positives in A
    pos_anchors: Tensor | None  # [P, 4], None without positives
    num_pos: int


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
        featmap_sizes = [f.size()[-2:] for f in cls_scores]
        if len(featmap_sizes) != self.prior_generator.num_levels:
            raise ValueError(f"{len(featmap_sizes)} feature levels but the anchor generator has "
                             f"{self.prior_generator.num_levels}")
        device = cls_scores[0].device
        anchor_list, valid_flag_list = self.get_anchors(featmap_sizes, img_metas, device=device)
        label_channels = self.cls_out_channels if self.use_sigmoid_cls else 1
        (labels, labels_weight, bboxes_target, bboxes_weight, pos_inds, pos_gt_index) = (
            self.get_targets(anchor_list, valid_flag_list, gt_bboxes, img_metas,
                             gt_bboxes_ignore_list=gt_bboxes_ignore, gt_labels_list=gt_labels,
                             label_channels=label_channels))
        cls_scores = [s.reshape(-1, self.cls_out_channels) for s in levels_to_images(cls_scores)]
        bbox_preds = [p.reshape(-1, 4) for p in levels_to_images(bbox_preds)]
        pos_losses_list, = multi_apply(self.get_pos_loss, anchor_list, cls_scores, bbox_preds,
                                       labels, labels_weight, bboxes_target, bboxes_weight,
                                       pos_inds)
        with torch.no_grad():
            labels, labels_weight, _, num_pos = multi_apply(
                self.paa_reassign, pos_losses_list, labels, labels_weight, bboxes_weight,
                pos_inds, pos_gt_index, anchor_list)
            num_pos = sum(num_pos)
        labels = torch.cat(labels, 0).view(-1)
        flat_anchors = torch.cat([torch.cat(item, 0) for item in anchor_list])
        labels_weight = torch.cat(labels_weight, 0).view(-1)
        bboxes_target = torch.cat(bboxes_target, 0).view(-1, 4)
        pos_flat = ((labels >= 0) & (labels < self.num_classes)).nonzero().reshape(-1)
        pos_anchors = flat_anchors[pos_flat] if num_pos else None
        return LabelAssignment(labels, labels_weight, bboxes_target, bboxes_weight, pos_flat,
                               pos_anchors, num_pos)

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
        (labels, labels_weight, bboxes_target, _, pos_flat, pos_anchors,
         num_pos) = label_assignment_results
        cls_scores = torch.cat([s.reshape(-1, self.cls_out_channels)
                                for s in levels_to_images(cls_scores)], 0)
        bbox_preds = torch.cat([p.reshape(-1, 4) for p in levels_to_images(bbox_preds)], 0)
        iou_preds = torch.cat([p.reshape(-1, 1) for p in levels_to_images(iou_preds)], 0)
        losses_cls = self.loss_cls(cls_scores, labels, labels_weight,
                                   avg_factor=max(num_pos, len(img_metas)))
        if num_pos:
            pos_bbox_pred = self.bbox_coder.decode(pos_anchors, bbox_preds[pos_flat])
            pos_bbox_target = bboxes_target[pos_flat]
            iou_target = bbox_overlaps(pos_bbox_pred.detach(), pos_bbox_target, is_aligned=True)
            losses_iou = self.loss_centerness(iou_preds[pos_flat], iou_target.unsqueeze(-1),
                                              avg_factor=num_pos)
            losses_bbox = self.loss_bbox(pos_bbox_pred, pos_bbox_target, avg_factor=num_pos)
        else:
            losses_iou = iou_preds.sum() * 0
            losses_bbox = bbox_preds.sum() * 0
        return dict(loss_cls=losses_cls, loss_bbox=losses_bbox, loss_iou=losses_iou)
