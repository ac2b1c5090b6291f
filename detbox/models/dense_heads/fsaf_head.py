"""``FSAFHead``: the anchor-free branch of FSAF (Zhu et al., 2019), MMDetection v2's.

RetinaNet's towers and predictors (``retina_cls``, ``retina_reg``) with one "anchor" per
location (a square of the level's stride, only used as the unit of the TBLR box coder); the
regression goes through a ReLU. Targets come from :class:`CenterRegionAssigner` (positives in
the center region of a ground truth; priors in its shadow get weight 0 for its class). The
losses are computed element-wise (``reduction='none'`` in the configs) on every level; then
each ground truth keeps only the level where its mean loss (classification + IoU) is lowest
(*online feature selection*) and the other levels' positives of it are zeroed.

>>> head = FSAFHead(num_classes=2, in_channels=8, feat_channels=8, stacked_convs=1,
...     anchor_generator=dict(type='AnchorGenerator', octave_base_scale=1,
...                            scales_per_octave=1, ratios=[1.0], strides=[8]))
>>> cls, reg = head([torch.zeros(1, 8, 4, 4)])
>>> tuple(cls[0].shape), tuple(reg[0].shape), bool((reg[0] >= 0).all())
((1, 2, 4, 4), (1, 4, 4, 4), True)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from ...registry import MODELS
from ..losses import accuracy, weight_reduce_loss
from ..utils import anchor_inside_flags, force_fp32, images_to_levels, multi_apply, unmap
from .retina_head import RetinaHead

__all__ = ["FSAFHead"]


@MODELS.register_module()
class FSAFHead(RetinaHead):
    """FSAF's anchor-free head.

    Args:
        score_threshold: scores below this count as misses in the logged ``pos_recall``.
        init_cfg: initialisation (normal std 0.01; ``retina_cls`` bias for prior 0.01,
            ``retina_reg`` bias 0.25).
        **kwargs: ``RetinaHead`` / ``AnchorHead`` arguments.
    """

    def __init__(self, *args: Any, score_threshold: float | None = None,
                 init_cfg: dict | list | None = None, **kwargs: Any) -> None:
        if init_cfg is None:
            init_cfg = dict(type="Normal", layer="Conv2d", std=0.01, override=[
                dict(type="Normal", name="retina_cls", std=0.01, bias_prob=0.01),
                dict(type="Normal", name="retina_reg", std=0.01, bias=0.25)])
        super().__init__(*args, init_cfg=init_cfg, **kwargs)
        self.score_threshold = score_threshold

    def forward_single(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """``(cls_score [B, C, H, W], relu(bbox_pred) [B, 4, H, W])``."""
        cls_score, bbox_pred = super().forward_single(x)
        return cls_score, self.relu(bbox_pred)

    def _get_targets_single(self, flat_anchors: Tensor, valid_flags: Tensor, gt_bboxes: Tensor,
                            gt_bboxes_ignore: Tensor | None, gt_labels: Tensor | None,
                            img_meta: dict, label_channels: int = 1, unmap_outputs: bool = True
                            ) -> tuple:
        """``AnchorHead``'s targets with per-class label weights (0 for shadowed classes) and
        the 0-based index of each prior's ground truth (``-1``: none) as an eighth output."""
        inside = anchor_inside_flags(flat_anchors, valid_flags, img_meta["img_shape"][:2],
                                     self.train_cfg["allowed_border"])
        if not inside.any():
            return (None,) * 7
        anchors = flat_anchors[inside, :]
        assign_result = self.assigner.assign(anchors, gt_bboxes, gt_bboxes_ignore,
                                             None if self.sampling else gt_labels)
        sampling_result = self.sampler.sample(assign_result, anchors, gt_bboxes)
        labels, label_weights, bbox_targets, bbox_weights = self._fill_targets(
            anchors, sampling_result, gt_labels)
        label_weights = label_weights[:, None].repeat(1, label_channels)  # [A, C]
        pos_inds = sampling_result.pos_inds
        pos_gt_inds = anchors.new_full((anchors.shape[0],), -1, dtype=torch.long)
        pos_gt_inds[pos_inds] = sampling_result.pos_assigned_gt_inds
        shadowed = assign_result.get_extra_property("shadowed_labels")
        if shadowed is not None and shadowed.numel():
            if shadowed.dim() == 2:
                idx, label = shadowed[:, 0], shadowed[:, 1]
                if (labels[idx] == label).any():
                    raise AssertionError("one label cannot be both positive and ignored")
                label_weights[idx, label] = 0
            else:
                label_weights[shadowed] = 0
        targets = (labels, label_weights, bbox_targets, bbox_weights)
        if unmap_outputs:
            total = flat_anchors.size(0)
            targets = self._unmap_targets(targets, total, inside)
            pos_gt_inds = unmap(pos_gt_inds, total, inside, fill=-1)
        return (*targets, pos_inds, sampling_result.neg_inds, sampling_result, pos_gt_inds)

    @force_fp32
    def loss(self, cls_scores: list[Tensor], bbox_preds: list[Tensor], gt_bboxes: list[Tensor],
             gt_labels: list[Tensor], img_metas: list[dict],
             gt_bboxes_ignore: list[Tensor] | None = None) -> dict | None:
        """``loss_cls`` and ``loss_bbox`` per level after feature selection, plus the logged
        ``num_pos`` (per image) and ``pos_recall``."""
        bbox_preds = [pred.clamp(min=1e-4) for pred in bbox_preds]
        batch_size = len(gt_bboxes)
        device = cls_scores[0].device
        anchor_list, targets = self.get_loss_targets(cls_scores, gt_bboxes, gt_labels, img_metas,
                                                     gt_bboxes_ignore)
        if targets is None:
            return None
        (labels_list, label_weights_list, bbox_targets_list, bbox_weights_list, num_total_pos,
         num_total_neg, gt_inds_list) = targets
        num_total_samples = num_total_pos + num_total_neg if self.sampling else num_total_pos
        num_level_anchors = [a.size(0) for a in anchor_list[0]]
        all_anchors = images_to_levels([torch.cat(a) for a in anchor_list], num_level_anchors)
        # element-wise losses (the configs' reduction='none')
        losses_cls, losses_bbox = multi_apply(
            self.loss_single, cls_scores, bbox_preds, all_anchors, labels_list,
            label_weights_list, bbox_targets_list, bbox_weights_list,
            num_total_samples=num_total_samples)
        # ground-truth indices over the whole batch, flattened per level
        cum_num_gts = np.cumsum([len(labels) for labels in gt_labels])
        for i, assign in enumerate(gt_inds_list):
            assign = assign.clone()
            for j in range(1, batch_size):
                assign[j][assign[j] >= 0] += int(cum_num_gts[j - 1])
            gt_inds_list[i] = assign.flatten()
            labels_list[i] = labels_list[i].flatten()
        num_gts = int(sum(len(labels) for labels in gt_labels))
        with torch.no_grad():
            loss_levels, = multi_apply(self.collect_loss_level_single, losses_cls, losses_bbox,
                                       gt_inds_list,
                                       labels_seq=torch.arange(num_gts, device=device))
            loss_levels = torch.stack(loss_levels, dim=0)  # [L, G]
            if loss_levels.numel() == 0:
                argmin = loss_levels.new_empty((num_gts,), dtype=torch.long)
            else:
                argmin = loss_levels.min(dim=0)[1]
        losses_cls, losses_bbox, pos_inds = multi_apply(
            self.reweight_loss_single, losses_cls, losses_bbox, gt_inds_list, labels_list,
            list(range(len(losses_cls))), min_levels=argmin)
        num_pos = torch.cat(pos_inds, 0).sum().float()
        pos_recall = self.calculate_pos_recall(cls_scores, labels_list, pos_inds)
        avg_factor = num_pos + float(num_total_neg) if num_pos == 0 else num_pos
        losses_cls = [loss / avg_factor for loss in losses_cls]
        losses_bbox = [loss / avg_factor for loss in losses_bbox]
        return dict(loss_cls=losses_cls, loss_bbox=losses_bbox, num_pos=num_pos / batch_size,
                    pos_recall=pos_recall)

    def calculate_pos_recall(self, cls_scores: list[Tensor], labels_list: list[Tensor],
                             pos_inds: list[Tensor]) -> Tensor:
        """Top-1 accuracy (percent) of the final positives, scores below
        ``score_threshold`` counting as wrong.

        Args:
            cls_scores: per level ``Tensor[B, C, H, W]``.
            labels_list: per level ``Tensor[B * H * W]`` assigned labels.
            pos_inds: per level ``Tensor[B * H * W]`` bool final positives.
        """
        with torch.no_grad():
            scores = torch.cat([cls.permute(0, 2, 3, 1).reshape(-1, self.num_classes)[pos]
                                for cls, pos in zip(cls_scores, pos_inds)], dim=0)
            labels = torch.cat([label.reshape(-1)[pos]
                                for label, pos in zip(labels_list, pos_inds)], dim=0)
            scores = scores.sigmoid() if self.use_sigmoid_cls else scores.softmax(dim=1)
            return accuracy(scores, labels, thresh=self.score_threshold)

    def collect_loss_level_single(self, cls_loss: Tensor, reg_loss: Tensor,
                                  assigned_gt_inds: Tensor, labels_seq: Tensor
                                  ) -> tuple[Tensor]:
        """Mean loss of each ground truth's positives on one level (``1e6`` where it has none).

        Args:
            cls_loss: ``Tensor[A, C]`` (or ``[A]``) element-wise classification loss.
            reg_loss: ``Tensor[A, 4]`` (or ``[A]``) element-wise regression loss.
            assigned_gt_inds: ``Tensor[A]`` batch-wide 0-based ground truth (-1: none).
            labels_seq: ``Tensor[G]`` the ground-truth indices ``0..G-1``.

        Returns:
            ``(Tensor[G],)``.
        """
        if reg_loss.dim() == 2:
            reg_loss = reg_loss.sum(dim=-1)
        if cls_loss.dim() == 2:
            cls_loss = cls_loss.sum(dim=-1)
        loss = cls_loss + reg_loss
        if loss.size(0) != assigned_gt_inds.size(0):
            raise AssertionError("collect_loss_level_single: losses and assignments differ")
        out = loss.new_full(labels_seq.shape, 1e6)
        for i, gt in enumerate(labels_seq):
            match = assigned_gt_inds == gt
            if match.any():
                out[i] = loss[match].mean()
        return (out,)

    def reweight_loss_single(self, cls_loss: Tensor, reg_loss: Tensor,
                             assigned_gt_inds: Tensor, labels: Tensor, level: int,
                             min_levels: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Zero the positives of ground truths whose best level is not ``level``; sum.

        Args:
            cls_loss: ``Tensor[A, C]`` element-wise classification loss.
            reg_loss: ``Tensor[A]`` (or ``[A, 4]``) element-wise regression loss.
            assigned_gt_inds: ``Tensor[A]`` batch-wide 0-based ground truth (-1: none).
            labels: ``Tensor[A]`` assigned labels.
            level: this level's index.
            min_levels: ``Tensor[G]`` best level of each ground truth.

        Returns:
            ``(cls_loss sum, reg_loss sum, pos_flags: Tensor[A] bool)``.
        """
        loc_weight = torch.ones_like(reg_loss)
        cls_weight = torch.ones_like(cls_loss)
        pos_flags = assigned_gt_inds >= 0
        pos_indices = torch.nonzero(pos_flags, as_tuple=False).flatten()
        if pos_flags.any():
            zeroing = min_levels[assigned_gt_inds[pos_flags]] != level
            neg_indices = pos_indices[zeroing]
            if neg_indices.numel():
                pos_flags[neg_indices] = False
                loc_weight[neg_indices] = 0
                zeroing_labels = labels[neg_indices]
                if not (zeroing_labels >= 0).all():
                    raise AssertionError("a positive prior without a label")
                cls_weight[neg_indices, zeroing_labels] = 0
        cls_loss = weight_reduce_loss(cls_loss, cls_weight, reduction="sum")
        reg_loss = weight_reduce_loss(reg_loss, loc_weight, reduction="sum")
        return cls_loss, reg_loss, pos_flags
