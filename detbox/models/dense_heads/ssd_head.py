"""``SSDHead``: SSD's per-level 3x3 predictors with softmax classes and hard negative mining.

Per level ``i``: ``cls_convs.i`` and ``reg_convs.i`` (optional stacked convs, a depthwise conv
with SSDLite, then the predictor: 3x3, or 1x1 with ``use_depthwise``) give ``A * (C + 1)``
class logits (the background last) and ``A * 4`` deltas. Targets come from
:class:`AnchorHead`'s assignment (``MaxIoUAssigner``, all anchors, a ``PseudoSampler``); the
class loss of each image is the cross-entropy of its positives plus its ``neg_pos_ratio *
num_pos`` hardest negatives, and the box loss a smooth L1 (``smoothl1_beta``), both divided by
the batch's number of positives. Test time is :class:`BaseDenseHead`'s (softmax scores).
"""

from __future__ import annotations

from typing import Any, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...registry import MODELS, TASK_UTILS
from ..layers import ConvModule, DepthwiseSeparableConvModule
from ..losses import smooth_l1_loss
from ..utils import force_fp32, multi_apply
from .anchor_head import AnchorHead
from .base_dense_head import BaseDenseHead

__all__ = ["SSDHead"]


@MODELS.register_module()
class SSDHead(AnchorHead):
    """SSD head.

    Args:
        num_classes: number of object classes (background excluded).
        in_channels: channels of each input level.
        stacked_convs: convs before the predictors.
        feat_channels: channels of the stacked convs.
        use_depthwise: SSDLite: depthwise separable stacked convs, a depthwise 3x3 and 1x1
            predictors.
        conv_cfg: conv config of the stacked convs.
        norm_cfg: norm config of the stacked convs.
        act_cfg: activation config of the stacked convs.
        anchor_generator: ``SSDAnchorGenerator`` config (SSD300 by default).
        bbox_coder: box coder config.
        reg_decoded_bbox: regress decoded boxes.
        train_cfg: ``assigner``, ``smoothl1_beta``, ``neg_pos_ratio``, ``allowed_border``,
            ``pos_weight``.
        test_cfg: ``nms_pre``, ``score_thr``, ``nms``, ``max_per_img``.
        init_cfg: initialisation (Xavier uniform convs, bias 0).
    """

    def __init__(self, num_classes: int = 80,
                 in_channels: Sequence[int] = (512, 1024, 512, 256, 256, 256),
                 stacked_convs: int = 0, feat_channels: int = 256, use_depthwise: bool = False,
                 conv_cfg: dict | None = None, norm_cfg: dict | None = None,
                 act_cfg: dict | None = None, anchor_generator: dict | None = None,
                 bbox_coder: dict | None = None, reg_decoded_bbox: bool = False,
                 train_cfg: Any = None, test_cfg: Any = None,
                 init_cfg: dict | list | None = None) -> None:
        BaseDenseHead.__init__(self, init_cfg or dict(type="Xavier", layer="Conv2d",
                                                      distribution="uniform", bias=0))
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.stacked_convs = stacked_convs
        self.feat_channels = feat_channels
        self.use_depthwise = use_depthwise
        self.conv_cfg, self.norm_cfg, self.act_cfg = conv_cfg, norm_cfg, act_cfg
        self.cls_out_channels = num_classes + 1
        self.prior_generator = TASK_UTILS.build(anchor_generator or dict(
            type="SSDAnchorGenerator", scale_major=False, input_size=300,
            strides=[8, 16, 32, 64, 100, 300], ratios=([2], [2, 3], [2, 3], [2, 3], [2], [2]),
            basesize_ratio_range=(0.1, 0.9)))
        self.num_base_priors = self.prior_generator.num_base_priors
        self._init_layers()
        self.bbox_coder = TASK_UTILS.build(bbox_coder or dict(
            type="DeltaXYWHBBoxCoder", clip_border=True, target_means=[0.0] * 4,
            target_stds=[1.0] * 4))
        self.reg_decoded_bbox = reg_decoded_bbox
        self.use_sigmoid_cls = False
        self.cls_focal_loss = False
        self.train_cfg, self.test_cfg = train_cfg, test_cfg
        self.sampling = False
        if self.train_cfg:
            self.assigner = TASK_UTILS.build(self.train_cfg["assigner"])
            self.sampler = TASK_UTILS.build(dict(type="PseudoSampler"))
        self.fp16_enabled = False

    def _init_layers(self) -> None:
        self.cls_convs = nn.ModuleList()
        self.reg_convs = nn.ModuleList()
        conv = DepthwiseSeparableConvModule if self.use_depthwise else ConvModule
        common = dict(conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)
        kernel, pad = (1, 0) if self.use_depthwise else (3, 1)
        for channels, num_priors in zip(self.in_channels, self.num_base_priors):
            towers = []
            for out_channels in (num_priors * self.cls_out_channels, num_priors * 4):
                layers: list[nn.Module] = []
                ch = channels
                for _ in range(self.stacked_convs):
                    layers.append(conv(ch, self.feat_channels, 3, padding=1, **common))
                    ch = self.feat_channels
                if self.use_depthwise:
                    layers.append(ConvModule(ch, ch, 3, padding=1, groups=ch, **common))
                layers.append(nn.Conv2d(ch, out_channels, kernel_size=kernel, padding=pad))
                towers.append(nn.Sequential(*layers))
            self.cls_convs.append(towers[0])
            self.reg_convs.append(towers[1])

    def forward(self, feats: Sequence[Tensor]) -> tuple[list[Tensor], list[Tensor]]:
        """Per level ``cls_score [B, A*(C+1), H, W]`` and ``bbox_pred [B, A*4, H, W]``
        (the background logit last in each group of C + 1)."""
        cls_scores = [cls_conv(f) for f, cls_conv in zip(feats, self.cls_convs)]
        bbox_preds = [reg_conv(f) for f, reg_conv in zip(feats, self.reg_convs)]
        return cls_scores, bbox_preds

    def loss_single(self, cls_score: Tensor, bbox_pred: Tensor, anchor: Tensor, labels: Tensor,
                    label_weights: Tensor, bbox_targets: Tensor, bbox_weights: Tensor,
                    num_total_samples: int) -> tuple[Tensor, Tensor]:
        """Losses of one image (all levels): ``cls_score [A, C+1]``, ``bbox_pred [A, 4]``."""
        loss_all = F.cross_entropy(cls_score, labels, reduction="none") * label_weights
        pos = ((labels >= 0) & (labels < self.num_classes)).nonzero(as_tuple=False).reshape(-1)
        neg = (labels == self.num_classes).nonzero(as_tuple=False).view(-1)
        num_neg = min(self.train_cfg["neg_pos_ratio"] * pos.size(0), neg.size(0))
        hardest, _ = loss_all[neg].topk(num_neg)
        loss_cls = (loss_all[pos].sum() + hardest.sum()) / num_total_samples
        if self.reg_decoded_bbox:
            bbox_pred = self.bbox_coder.decode(anchor, bbox_pred)
        loss_bbox = smooth_l1_loss(bbox_pred, bbox_targets, bbox_weights,
                                   beta=self.train_cfg["smoothl1_beta"],
                                   avg_factor=num_total_samples)
        return loss_cls[None], loss_bbox

    @force_fp32
    def loss(self, cls_scores: list[Tensor], bbox_preds: list[Tensor], gt_bboxes: list[Tensor],
             gt_labels: list[Tensor], img_metas: list[dict],
             gt_bboxes_ignore: list[Tensor] | None = None) -> dict | None:
        """``dict(loss_cls=[per image], loss_bbox=[per image])``."""
        anchor_list, targets = self.get_loss_targets(cls_scores, gt_bboxes, gt_labels, img_metas,
                                                     gt_bboxes_ignore, unmap_outputs=True)
        if targets is None:
            return None
        labels, label_weights, bbox_targets, bbox_weights, num_pos, _ = targets
        n = len(img_metas)
        all_cls = torch.cat([s.permute(0, 2, 3, 1).reshape(n, -1, self.cls_out_channels)
                             for s in cls_scores], 1)
        all_bbox = torch.cat([b.permute(0, 2, 3, 1).reshape(n, -1, 4) for b in bbox_preds], -2)
        losses_cls, losses_bbox = multi_apply(
            self.loss_single, all_cls, all_bbox, [torch.cat(a) for a in anchor_list],
            torch.cat(labels, -1).view(n, -1), torch.cat(label_weights, -1).view(n, -1),
            torch.cat(bbox_targets, -2).view(n, -1, 4), torch.cat(bbox_weights, -2).view(n, -1, 4),
            num_total_samples=num_pos)
        return dict(loss_cls=losses_cls, loss_bbox=losses_bbox)
