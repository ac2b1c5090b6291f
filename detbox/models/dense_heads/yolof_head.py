"""``YOLOFHead``: the head of YOLOF (Chen et al., 2021), MMDetection v2's names and defaults.

One feature level. ``cls_subnet`` (``num_cls_convs`` 3x3 ConvModules with BN) feeds
``cls_score``; ``bbox_subnet`` (``num_reg_convs``) feeds ``bbox_pred`` (deltas) and
``object_pred`` (an implicit objectness per anchor). The class logit is normalised with the
objectness: ``cls + obj - log(1 + exp(cls) + exp(obj))`` (the log of
``sigmoid(cls) * sigmoid(obj)`` in a stable form, exps clamped at 1e8).

Training: the decoded predictions are matched by :class:`UniformAssigner`; the box loss (GIoU
in the configs) runs on the assigner's matched ``(prediction, ground truth)`` pairs, weighted
by its ``pos_idx``; the focal loss over all anchors, both averaged over the positives. Test
time decoding is ``AnchorHead``'s.

>>> head = YOLOFHead(num_classes=2, in_channels=8, num_cls_convs=1, num_reg_convs=1,
...     anchor_generator=dict(type='AnchorGenerator', ratios=[1.0], scales=[1, 2],
...                           strides=[32]),
...     loss_cls=dict(type='FocalLoss', use_sigmoid=True))
>>> cls, reg = head([torch.zeros(1, 8, 3, 3)])
>>> tuple(cls[0].shape), tuple(reg[0].shape)
((1, 4, 3, 3), (1, 8, 3, 3))
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from ...registry import MODELS
from ..layers import ConvModule, is_norm
from ..utils import anchor_inside_flags, force_fp32, multi_apply, unmap
from ..weight_init import bias_init_with_prob, constant_init, normal_init
from .anchor_head import AnchorHead
from .head_utils import mean_count

__all__ = ["YOLOFHead", "levels_to_images"]

INF = 1e8


def levels_to_images(mlvl_tensor: list[Tensor]) -> list[Tensor]:
    """Per level ``Tensor[B, C, H, W]`` -> per image ``Tensor[sum(H * W), C]`` (levels
    concatenated, locations row-major)."""
    batch_size = mlvl_tensor[0].size(0)
    channels = mlvl_tensor[0].size(1)
    per_level = [t.permute(0, 2, 3, 1).reshape(batch_size, -1, channels) for t in mlvl_tensor]
    return [torch.cat([t[i] for t in per_level], 0) for i in range(batch_size)]


@MODELS.register_module()
class YOLOFHead(AnchorHead):
    """YOLOF's head.

    Args:
        num_classes: number of object classes (background excluded).
        in_channels: channels of the (single) input level; also the towers' channels.
        num_cls_convs: convs of the classification tower.
        num_reg_convs: convs of the regression tower.
        norm_cfg: norm of the towers (BN).
        **kwargs: ``AnchorHead`` arguments.
    """

    def __init__(self, num_classes: int, in_channels: int, num_cls_convs: int = 2,
                 num_reg_convs: int = 4,
                 norm_cfg: dict | None = dict(  # noqa: B006 (never mutated)
                     type="BN", requires_grad=True),
                 **kwargs: Any) -> None:
        self.num_cls_convs = num_cls_convs
        self.num_reg_convs = num_reg_convs
        self.norm_cfg = norm_cfg
        super().__init__(num_classes, in_channels, **kwargs)

    def _init_layers(self) -> None:
        def tower(n: int) -> nn.Sequential:
            return nn.Sequential(*[ConvModule(self.in_channels, self.in_channels, 3, padding=1,
                                              norm_cfg=self.norm_cfg) for _ in range(n)])

        self.cls_subnet = tower(self.num_cls_convs)
        self.bbox_subnet = tower(self.num_reg_convs)
        a = self.num_base_priors
        self.cls_score = nn.Conv2d(self.in_channels, a * self.num_classes, 3, padding=1)
        self.bbox_pred = nn.Conv2d(self.in_channels, a * 4, 3, padding=1)
        self.object_pred = nn.Conv2d(self.in_channels, a, 3, padding=1)

    def init_weights(self) -> None:
        """Normal(0.01) convs, norms at 1, ``cls_score`` bias for a prior of 0.01."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                normal_init(m, mean=0, std=0.01)
            if is_norm(m):
                constant_init(m, 1)
        torch.nn.init.constant_(self.cls_score.bias, bias_init_with_prob(0.01))
        self._is_init = True

    def forward_single(self, feature: Tensor) -> tuple[Tensor, Tensor]:
        """``(normalized cls_score [B, A*C, H, W], bbox_pred [B, A*4, H, W])``."""
        cls_score = self.cls_score(self.cls_subnet(feature))
        n, _, h, w = cls_score.shape
        cls_score = cls_score.view(n, -1, self.num_classes, h, w)
        reg_feat = self.bbox_subnet(feature)
        bbox_reg = self.bbox_pred(reg_feat)
        objectness = self.object_pred(reg_feat).view(n, -1, 1, h, w)
        normalized = cls_score + objectness - torch.log(
            1. + torch.clamp(cls_score.exp(), max=INF) + torch.clamp(objectness.exp(), max=INF))
        return normalized.view(n, -1, h, w), bbox_reg

    @force_fp32
    def loss(self, cls_scores: list[Tensor], bbox_preds: list[Tensor], gt_bboxes: list[Tensor],
             gt_labels: list[Tensor], img_metas: list[dict],
             gt_bboxes_ignore: list[Tensor] | None = None) -> dict | None:
        """``dict(loss_cls, loss_bbox)`` of the single level."""
        if len(cls_scores) != 1 or self.prior_generator.num_levels != 1:
            raise AssertionError("YOLOFHead works on exactly one feature level")
        device = cls_scores[0].device
        featmap_sizes = [f.size()[-2:] for f in cls_scores]
        anchor_list, valid_flag_list = self.get_anchors(featmap_sizes, img_metas, device=device)
        anchor_list = [anchors[0] for anchors in anchor_list]
        valid_flag_list = [flags[0] for flags in valid_flag_list]
        label_channels = self.cls_out_channels if self.use_sigmoid_cls else 1
        targets = self.get_targets(levels_to_images(cls_scores), levels_to_images(bbox_preds),
                                   anchor_list, valid_flag_list, gt_bboxes, img_metas,
                                   gt_bboxes_ignore_list=gt_bboxes_ignore,
                                   gt_labels_list=gt_labels, label_channels=label_channels)
        if targets is None:
            return None
        (labels, label_weights, num_total_pos, num_total_neg, bbox_weights, pos_pred_boxes,
         target_boxes) = targets
        cls_score = cls_scores[0].permute(0, 2, 3, 1).reshape(-1, self.cls_out_channels)
        num_total_samples = num_total_pos + num_total_neg if self.sampling else num_total_pos
        num_total_samples = mean_count(num_total_samples, cls_score.device)
        loss_cls = self.loss_cls(cls_score, labels.reshape(-1), label_weights.reshape(-1),
                                 avg_factor=num_total_samples)
        if pos_pred_boxes.shape[0] == 0:
            loss_bbox = pos_pred_boxes.sum() * 0
        else:
            loss_bbox = self.loss_bbox(pos_pred_boxes, target_boxes, bbox_weights.float(),
                                       avg_factor=num_total_samples)
        return dict(loss_cls=loss_cls, loss_bbox=loss_bbox)

    def get_targets(self, cls_scores_list: list[Tensor], bbox_preds_list: list[Tensor],
                    anchor_list: list[Tensor], valid_flag_list: list[Tensor],
                    gt_bboxes_list: list[Tensor], img_metas: list[dict],
                    gt_bboxes_ignore_list: list | None = None,
                    gt_labels_list: list | None = None, label_channels: int = 1,
                    unmap_outputs: bool = True) -> tuple | None:
        """``(labels [B, A], label_weights [B, A], num_pos, num_neg, pos_idx [M],
        pos_predicted_boxes [M, 4], target_boxes [M, 4])``, the last three concatenated over
        the images."""
        num_imgs = len(img_metas)
        if not len(anchor_list) == len(valid_flag_list) == num_imgs:
            raise AssertionError("YOLOFHead.get_targets: one anchor set per image expected")
        if gt_bboxes_ignore_list is None:
            gt_bboxes_ignore_list = [None] * num_imgs
        if gt_labels_list is None:
            gt_labels_list = [None] * num_imgs
        results = multi_apply(self._get_targets_single, bbox_preds_list, anchor_list,
                              valid_flag_list, gt_bboxes_list, gt_bboxes_ignore_list,
                              gt_labels_list, img_metas, label_channels=label_channels,
                              unmap_outputs=unmap_outputs)
        all_labels, all_label_weights, pos_inds_list, neg_inds_list = results[:4]
        if any(labels is None for labels in all_labels):
            return None
        num_total_pos = sum(max(inds.numel(), 1) for inds in pos_inds_list)
        num_total_neg = sum(max(inds.numel(), 1) for inds in neg_inds_list)
        return (torch.stack(all_labels, 0), torch.stack(all_label_weights, 0), num_total_pos,
                num_total_neg) + tuple(torch.cat(rest, 0) for rest in results[5:])

    def _get_targets_single(self, bbox_preds: Tensor, flat_anchors: Tensor,  # type: ignore[override]
                            valid_flags: Tensor, gt_bboxes: Tensor,
                            gt_bboxes_ignore: Tensor | None, gt_labels: Tensor | None,
                            img_meta: dict, label_channels: int = 1,
                            unmap_outputs: bool = True) -> tuple:
        """Labels and label weights of one image's anchors, assigned on the decoded
        predictions; the assigner's matched pairs for the box loss."""
        inside = anchor_inside_flags(flat_anchors, valid_flags, img_meta["img_shape"][:2],
                                     self.train_cfg["allowed_border"])
        if not inside.any():
            return (None,) * 8
        anchors = flat_anchors[inside, :]
        decoded = self.bbox_coder.decode(anchors, bbox_preds.reshape(-1, 4)[inside, :])
        assign_result = self.assigner.assign(decoded, anchors, gt_bboxes, gt_bboxes_ignore,
                                             None if self.sampling else gt_labels)
        sampling_result = self.sampler.sample(assign_result, anchors, gt_bboxes)
        labels, label_weights, _, _ = self._fill_targets(anchors, sampling_result, gt_labels)
        if unmap_outputs:
            total = flat_anchors.size(0)
            labels = unmap(labels, total, inside, fill=self.num_classes)
            label_weights = unmap(label_weights, total, inside)
        return (labels, label_weights, sampling_result.pos_inds, sampling_result.neg_inds,
                sampling_result, assign_result.get_extra_property("pos_idx"),
                assign_result.get_extra_property("pos_predicted_boxes"),
                assign_result.get_extra_property("target_boxes"))
