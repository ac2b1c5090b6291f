"""``SABLHead``: the R-CNN box head of Side-Aware Boundary Localization (Wang et al., 2020).

Classification is a plain fc branch (``cls_fcs`` then ``fc_cls``). Localization pools the
RoI features into one feature per column (x) and per row (y) with learnt attention
(``reg_conv_att_x/y`` after ``reg_pre_convs``), refines them with 1-D convs
(``reg_post_conv_xs/ys``), upsamples them to ``num_buckets`` positions (``upsample_x/y``)
and predicts per position a bucket logit (``fc_reg_cls``) and an offset (``fc_reg_offset``).
The first half of the x positions are the left side's buckets, the second half reversed the
right side's (likewise top and bottom), which is the order of ``BucketingBBoxCoder``.

``bbox_pred`` is a pair ``(bucket_cls_preds, bucket_offset_preds)``, each ``Tensor[K, 4 * S]``
with ``S = ceil(num_buckets / 2)``; boxes are class agnostic, and at test time every class
score is multiplied by the coder's localization confidence.

>>> import torch
>>> head = SABLHead(num_classes=3, cls_in_channels=8, reg_in_channels=8, roi_feat_size=7,
...                 cls_out_channels=16, reg_offset_out_channels=8, reg_cls_out_channels=8)
>>> cls_score, (bucket_cls, bucket_offsets) = head(torch.zeros(2, 8, 7, 7))
>>> tuple(cls_score.shape), tuple(bucket_cls.shape), tuple(bucket_offsets.shape)
((2, 4), (2, 28), (2, 28))
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ....ops import multiclass_nms
from ....registry import MODELS
from ...layers import ConvModule
from ...losses import accuracy
from ...utils import force_fp32
from .bbox_head import BBoxHead

__all__ = ["SABLHead"]

BucketPreds = tuple[Tensor, Tensor]


def _fc_branch(num_fcs: int, in_channels: int, out_channels: int) -> nn.ModuleList:
    """``num_fcs`` linear layers, the first from ``in_channels``."""
    return nn.ModuleList(nn.Linear(in_channels if i == 0 else out_channels, out_channels)
                         for i in range(num_fcs))


@MODELS.register_module()
class SABLHead(BBoxHead):
    """SABL box head (MMDetection v2 names and defaults).

    Args:
        num_classes: number of object classes (background excluded).
        cls_in_channels: channels of the RoI features for classification.
        reg_in_channels: channels of the RoI features for localization.
        roi_feat_size: side of the pooled RoI features.
        reg_feat_up_ratio: upsampling of the side features; ``roi_feat_size *
            reg_feat_up_ratio`` must equal the coder's ``num_buckets``.
        reg_pre_kernel: kernel of the 2-D convs before attention pooling.
        reg_post_kernel: kernel of the 1-D convs after it.
        reg_pre_num: number of 2-D convs.
        reg_post_num: number of 1-D convs per direction.
        cls_out_channels: width of the classification fcs.
        reg_offset_out_channels: width of the offset fcs.
        reg_cls_out_channels: width of the bucket classification fcs.
        num_cls_fcs: classification fcs.
        num_reg_fcs: fcs of each localization branch.
        reg_class_agnostic: must be ``True``.
        norm_cfg: norm of the localization convs.
        bbox_coder: ``BucketingBBoxCoder`` config.
        loss_cls: classification loss.
        loss_bbox_cls: bucket classification loss (sigmoid cross-entropy).
        loss_bbox_reg: bucket offset loss.
        init_cfg: initialisation; by default Xavier fcs, normal predictors and attention,
            Kaiming upsampling.
    """

    def __init__(self, num_classes: int, cls_in_channels: int = 256, reg_in_channels: int = 256,
                 roi_feat_size: int = 7, reg_feat_up_ratio: int = 2, reg_pre_kernel: int = 3,
                 reg_post_kernel: int = 3, reg_pre_num: int = 2, reg_post_num: int = 1,
                 cls_out_channels: int = 1024, reg_offset_out_channels: int = 256,
                 reg_cls_out_channels: int = 256, num_cls_fcs: int = 1, num_reg_fcs: int = 0,
                 reg_class_agnostic: bool = True, norm_cfg: dict | None = None,
                 bbox_coder: dict | None = None, loss_cls: dict | None = None,
                 loss_bbox_cls: dict | None = None, loss_bbox_reg: dict | None = None,
                 init_cfg: dict | list | None = None) -> None:
        bbox_coder = bbox_coder or dict(type="BucketingBBoxCoder", num_buckets=14,
                                        scale_factor=1.7)
        loss_cls = loss_cls or dict(type="CrossEntropyLoss", use_sigmoid=False, loss_weight=1.0)
        loss_bbox_cls = loss_bbox_cls or dict(type="CrossEntropyLoss", use_sigmoid=True,
                                              loss_weight=1.0)
        loss_bbox_reg = loss_bbox_reg or dict(type="SmoothL1Loss", beta=0.1, loss_weight=1.0)
        if not reg_class_agnostic:
            raise ValueError("SABLHead: reg_class_agnostic must be True")
        reg_feat_up_ratio = int(reg_feat_up_ratio)
        if reg_feat_up_ratio // 2 < 1:
            raise ValueError(f"SABLHead: reg_feat_up_ratio must be at least 2, got "
                             f"{reg_feat_up_ratio}")
        if roi_feat_size * reg_feat_up_ratio != bbox_coder["num_buckets"]:
            raise ValueError(f"SABLHead: roi_feat_size * reg_feat_up_ratio = "
                             f"{roi_feat_size * reg_feat_up_ratio} must equal "
                             f"bbox_coder.num_buckets = {bbox_coder['num_buckets']}")
        # the box branch is SABL's own: BBoxHead's fc_reg and loss_bbox are not built
        super().__init__(with_reg=False, roi_feat_size=roi_feat_size,
                         in_channels=cls_in_channels, num_classes=num_classes,
                         bbox_coder=bbox_coder, reg_class_agnostic=True, loss_cls=loss_cls,
                         loss_bbox=loss_bbox_reg, init_cfg=init_cfg)
        self.loss_bbox_reg = self.loss_bbox
        del self.loss_bbox
        del self.fc_cls  # rebuilt below on the fcs' width, in MMDetection's module order
        self.loss_bbox_cls = MODELS.build(loss_bbox_cls)
        self.cls_in_channels = cls_in_channels
        self.reg_in_channels = reg_in_channels
        self.roi_feat_size = roi_feat_size
        self.reg_feat_up_ratio = reg_feat_up_ratio
        self.num_buckets = bbox_coder["num_buckets"]
        self.up_reg_feat_size = roi_feat_size * reg_feat_up_ratio
        self.side_num = math.ceil(self.num_buckets / 2)
        self.reg_pre_num = reg_pre_num
        self.reg_post_num = reg_post_num
        self.cls_out_channels = cls_out_channels
        self.norm_cfg = norm_cfg

        self.cls_fcs = _fc_branch(num_cls_fcs, cls_in_channels * roi_feat_size ** 2,
                                  cls_out_channels)
        if reg_feat_up_ratio > 1:
            self.upsample_x = nn.ConvTranspose1d(reg_in_channels, reg_in_channels,
                                                 reg_feat_up_ratio, stride=reg_feat_up_ratio)
            self.upsample_y = nn.ConvTranspose1d(reg_in_channels, reg_in_channels,
                                                 reg_feat_up_ratio, stride=reg_feat_up_ratio)
        relu = dict(type="ReLU")
        self.reg_pre_convs = nn.ModuleList(
            ConvModule(reg_in_channels, reg_in_channels, reg_pre_kernel,
                       padding=reg_pre_kernel // 2, norm_cfg=norm_cfg, act_cfg=relu)
            for _ in range(reg_pre_num))
        self.reg_post_conv_xs = nn.ModuleList(
            ConvModule(reg_in_channels, reg_in_channels, (1, reg_post_kernel),
                       padding=(0, reg_post_kernel // 2), norm_cfg=norm_cfg, act_cfg=relu)
            for _ in range(reg_post_num))
        self.reg_post_conv_ys = nn.ModuleList(
            ConvModule(reg_in_channels, reg_in_channels, (reg_post_kernel, 1),
                       padding=(reg_post_kernel // 2, 0), norm_cfg=norm_cfg, act_cfg=relu)
            for _ in range(reg_post_num))
        self.reg_conv_att_x = nn.Conv2d(reg_in_channels, 1, 1)
        self.reg_conv_att_y = nn.Conv2d(reg_in_channels, 1, 1)
        self.fc_cls = nn.Linear(cls_out_channels, num_classes + 1)
        self.relu = nn.ReLU(inplace=True)
        self.reg_cls_fcs = _fc_branch(num_reg_fcs, reg_in_channels, reg_cls_out_channels)
        self.reg_offset_fcs = _fc_branch(num_reg_fcs, reg_in_channels, reg_offset_out_channels)
        self.fc_reg_cls = nn.Linear(reg_cls_out_channels, 1)
        self.fc_reg_offset = nn.Linear(reg_offset_out_channels, 1)
        if init_cfg is None:
            self.init_cfg = [dict(type="Xavier", layer="Linear", distribution="uniform",
                                  override=[
                                      dict(type="Normal", name="reg_conv_att_x", std=0.01),
                                      dict(type="Normal", name="reg_conv_att_y", std=0.01),
                                      dict(type="Normal", name="fc_reg_cls", std=0.01),
                                      dict(type="Normal", name="fc_cls", std=0.01),
                                      dict(type="Normal", name="fc_reg_offset", std=0.001)])]
            if reg_feat_up_ratio > 1:
                self.init_cfg.append(dict(type="Kaiming", distribution="normal",
                                          override=[dict(name="upsample_x"),
                                                    dict(name="upsample_y")]))

    # ------------------------------------------------------------------ forward
    def cls_forward(self, cls_x: Tensor) -> Tensor:
        """``Tensor[K, C, s, s]`` -> class logits ``Tensor[K, num_classes + 1]``."""
        cls_x = cls_x.view(cls_x.size(0), -1)
        for fc in self.cls_fcs:
            cls_x = self.relu(fc(cls_x))
        return self.fc_cls(cls_x)

    def attention_pool(self, reg_x: Tensor) -> tuple[Tensor, Tensor]:
        """``Tensor[K, C, s, s]`` -> column features ``[K, C, s]`` (pooled over rows) and row
        features ``[K, C, s]`` (pooled over columns), weighted by normalised attention."""
        att_x = self.reg_conv_att_x(reg_x).sigmoid()
        att_y = self.reg_conv_att_y(reg_x).sigmoid()
        att_x = att_x / att_x.sum(dim=2).unsqueeze(2)
        att_y = att_y / att_y.sum(dim=3).unsqueeze(3)
        return (reg_x * att_x).sum(dim=2), (reg_x * att_y).sum(dim=3)

    def side_aware_feature_extractor(self, reg_x: Tensor) -> tuple[Tensor, Tensor]:
        """Side features ``(fx, fy)``, each ``Tensor[K, s * up_ratio, C]``."""
        for conv in self.reg_pre_convs:
            reg_x = conv(reg_x)
        reg_fx, reg_fy = self.attention_pool(reg_x)
        if self.reg_post_num > 0:
            reg_fx = reg_fx.unsqueeze(2)  # [K, C, 1, s]
            reg_fy = reg_fy.unsqueeze(3)  # [K, C, s, 1]
            for conv_x, conv_y in zip(self.reg_post_conv_xs, self.reg_post_conv_ys):
                reg_fx = conv_x(reg_fx)
                reg_fy = conv_y(reg_fy)
            reg_fx = reg_fx.squeeze(2)
            reg_fy = reg_fy.squeeze(3)
        if self.reg_feat_up_ratio > 1:
            reg_fx = self.relu(self.upsample_x(reg_fx))
            reg_fy = self.relu(self.upsample_y(reg_fy))
        return (torch.transpose(reg_fx, 1, 2).contiguous(),
                torch.transpose(reg_fy, 1, 2).contiguous())

    def reg_pred(self, x: Tensor, offset_fcs: nn.ModuleList, cls_fcs: nn.ModuleList
                 ) -> tuple[Tensor, Tensor]:
        """Per position offset and bucket logit: ``Tensor[K, P, C]`` -> two ``[K, P]``."""
        x_offset = x.view(-1, self.reg_in_channels)
        x_cls = x.view(-1, self.reg_in_channels)
        for fc in offset_fcs:
            x_offset = self.relu(fc(x_offset))
        for fc in cls_fcs:
            x_cls = self.relu(fc(x_cls))
        offset_pred = self.fc_reg_offset(x_offset).view(x.size(0), -1)
        cls_pred = self.fc_reg_cls(x_cls).view(x.size(0), -1)
        return offset_pred, cls_pred

    def side_aware_split(self, feat: Tensor) -> Tensor:
        """``Tensor[K, P]`` positions -> the first side's buckets then the second side's,
        counted inwards (the second half reversed)."""
        first = feat[:, :math.ceil(self.up_reg_feat_size / 2)]
        second = feat[:, self.up_reg_feat_size // 2:].flip(dims=(1,))
        return torch.cat([first.contiguous(), second.contiguous()], dim=-1)

    def bbox_pred_split(self, bbox_pred: BucketPreds, num_proposals_per_img: tuple[int, ...]
                        ) -> tuple[BucketPreds, ...]:
        """Split a batch's ``(bucket_cls, bucket_offsets)`` into one pair per image."""
        cls_preds = bbox_pred[0].split(num_proposals_per_img, 0)
        offset_preds = bbox_pred[1].split(num_proposals_per_img, 0)
        return tuple(zip(cls_preds, offset_preds))

    def reg_forward(self, reg_x: Tensor) -> BucketPreds:
        """``(bucket_cls_preds, bucket_offset_preds)``, each ``Tensor[K, 4 * S]``."""
        reg_fx, reg_fy = self.side_aware_feature_extractor(reg_x)
        offset_x, cls_x = self.reg_pred(reg_fx, self.reg_offset_fcs, self.reg_cls_fcs)
        offset_y, cls_y = self.reg_pred(reg_fy, self.reg_offset_fcs, self.reg_cls_fcs)
        split = self.side_aware_split
        return (torch.cat([split(cls_x), split(cls_y)], dim=-1),
                torch.cat([split(offset_x), split(offset_y)], dim=-1))

    def forward(self, x: Tensor) -> tuple[Tensor, BucketPreds]:  # type: ignore[override]
        """RoI features ``Tensor[K, C, s, s]`` -> ``(cls_score[K, num_classes + 1],
        (bucket_cls[K, 4S], bucket_offsets[K, 4S]))``."""
        bbox_pred = self.reg_forward(x)
        return self.cls_forward(x), bbox_pred

    # ------------------------------------------------------------------ training
    def _get_target_single(self, pos_bboxes: Tensor, neg_bboxes: Tensor,
                           pos_gt_bboxes: Tensor, pos_gt_labels: Tensor, cfg: Any
                           ) -> tuple[Tensor, ...]:
        """Labels, label weights and the four bucket targets/weights of one image's RoIs
        (positives first; every sampled RoI has label weight 1)."""
        num_pos, num_neg = pos_bboxes.size(0), neg_bboxes.size(0)
        num = num_pos + num_neg
        labels = pos_gt_bboxes.new_full((num,), self.num_classes, dtype=torch.long)
        label_weights = pos_bboxes.new_zeros(num)
        targets = [pos_bboxes.new_zeros(num, 4 * self.side_num) for _ in range(4)]
        if num_pos > 0:
            labels[:num_pos] = pos_gt_labels
            label_weights[:num_pos] = 1.0
            offsets, offset_weights, bucket_labels, bucket_weights = self.bbox_coder.encode(
                pos_bboxes, pos_gt_bboxes)
            for target, value in zip(targets, (bucket_labels, bucket_weights, offsets,
                                               offset_weights)):
                target[:num_pos, :] = value
        if num_neg > 0:
            label_weights[-num_neg:] = 1.0
        return (labels, label_weights, *targets)

    def get_targets(self, sampling_results: list, gt_bboxes: list[Tensor],
                    gt_labels: list[Tensor], rcnn_train_cfg: Any, concat: bool = True
                    ) -> tuple:
        """``(labels, label_weights, (bucket_cls_targets, bucket_offset_targets),
        (bucket_cls_weights, bucket_offset_weights))`` of all sampled RoIs."""
        labels, label_weights, cls_targets, cls_weights, offset_targets, offset_weights = (
            super().get_targets(sampling_results, gt_bboxes, gt_labels, rcnn_train_cfg,
                                concat=concat))
        return (labels, label_weights, (cls_targets, offset_targets),
                (cls_weights, offset_weights))

    @force_fp32
    def loss(self, cls_score: Tensor | None, bbox_pred: BucketPreds | None,  # type: ignore[override]
             rois: Tensor, labels: Tensor, label_weights: Tensor,
             bbox_targets: BucketPreds, bbox_weights: BucketPreds,
             reduction_override: str | None = None) -> dict:
        """``loss_cls``, ``acc``, ``loss_bbox_cls`` and ``loss_bbox_reg`` (the box losses
        averaged over all sampled RoIs)."""
        losses: dict = {}
        if cls_score is not None:
            avg_factor = max(torch.sum(label_weights > 0).float().item(), 1.0)
            losses["loss_cls"] = self.loss_cls(cls_score, labels, label_weights,
                                               avg_factor=avg_factor,
                                               reduction_override=reduction_override)
            losses["acc"] = accuracy(cls_score, labels)
        if bbox_pred is not None:
            cls_preds, offset_preds = bbox_pred
            cls_targets, offset_targets = bbox_targets
            cls_weights, offset_weights = bbox_weights
            cls_targets = cls_targets.view(-1, self.side_num)
            losses["loss_bbox_cls"] = self.loss_bbox_cls(
                cls_preds.view(-1, self.side_num), cls_targets,
                cls_weights.view(-1, self.side_num), avg_factor=cls_targets.size(0),
                reduction_override=reduction_override)
            losses["loss_bbox_reg"] = self.loss_bbox_reg(
                offset_preds, offset_targets, offset_weights,
                avg_factor=offset_targets.size(0), reduction_override=reduction_override)
        return losses

    # ------------------------------------------------------------------ inference
    @force_fp32
    def get_bboxes(self, rois: Tensor, cls_score: Tensor | list[Tensor] | None,  # type: ignore[override]
                   bbox_pred: BucketPreds | None, img_shape: tuple | None, scale_factor: Any,
                   rescale: bool = False, cfg: Any = None) -> tuple[Tensor, Tensor]:
        """Decode one image's RoIs ``Tensor[K, 5]``; with ``cfg``, ``multiclass_nms`` with the
        localization confidence as score factor.

        Returns:
            ``(bboxes[K, 4], scores[K, C+1])`` without ``cfg``; else
            ``(dets[n, 5], labels[n])``.
        """
        if isinstance(cls_score, list):
            cls_score = sum(cls_score) / float(len(cls_score))
        scores = F.softmax(cls_score, dim=1) if cls_score is not None else None
        confidences = None
        if bbox_pred is not None:
            bboxes, confidences = self.bbox_coder.decode(rois[:, 1:], bbox_pred, img_shape)
        else:
            # as in MMDetection 2.28, RoIs are taken as they are (its clamp acts on a copy)
            bboxes = rois[:, 1:].clone()
        if rescale and bboxes.size(0) > 0:
            if isinstance(scale_factor, float):
                bboxes = bboxes / scale_factor
            else:
                bboxes = bboxes / bboxes.new_tensor(np.asarray(scale_factor))
        if cfg is None:
            return bboxes, scores
        return multiclass_nms(bboxes, scores, cfg["score_thr"], cfg["nms"], cfg["max_per_img"],
                              score_factors=confidences)

    @force_fp32
    def refine_bboxes(self, rois: Tensor, labels: Tensor, bbox_preds: BucketPreds,  # type: ignore[override]
                      pos_is_gts: list[Tensor], img_metas: list[dict]) -> list[Tensor]:
        """Decoded RoIs of each image for the next cascade stage, ground truths removed."""
        num_imgs_in_rois = rois[:, 0].long().unique(sorted=True).numel()
        if num_imgs_in_rois != len(img_metas):
            raise AssertionError(f"SABLHead.refine_bboxes: RoIs of {num_imgs_in_rois} images "
                                 f"for {len(img_metas)} metas")
        refined = []
        for i, meta in enumerate(img_metas):
            inds = torch.nonzero(rois[:, 0] == i, as_tuple=False).squeeze(dim=1)
            pred = (bbox_preds[0][inds], bbox_preds[1][inds])
            boxes = self.regress_by_class(rois[inds, 1:], labels[inds], pred, meta)
            keep = pos_is_gts[i].new_ones(inds.numel())
            keep[:len(pos_is_gts[i])] = 1 - pos_is_gts[i]
            refined.append(boxes[keep.type(torch.bool)])
        return refined

    @force_fp32
    def regress_by_class(self, rois: Tensor, label: Tensor,  # type: ignore[override]
                         bbox_pred: BucketPreds, img_meta: dict) -> Tensor:
        """Decoded boxes of ``rois: Tensor[K, 4]`` or ``[K, 5]`` (class agnostic: ``label``
        is unused), in the same format."""
        if rois.size(1) not in (4, 5):
            raise ValueError(f"rois must have 4 or 5 columns, got {tuple(rois.shape)}")
        if rois.size(1) == 4:
            return self.bbox_coder.decode(rois, bbox_pred, img_meta["img_shape"])[0]
        boxes = self.bbox_coder.decode(rois[:, 1:], bbox_pred, img_meta["img_shape"])[0]
        return torch.cat((rois[:, [0]], boxes), dim=1)
