"""``DIIHead``: Sparse R-CNN's dynamic instance interactive head (one stage of it).

Each proposal's feature goes through self-attention over the image's proposals, a
``DynamicConv`` with its RoI features, and an FFN; class scores and box deltas come from
small fc towers. Boxes are regressed as decoded boxes (``reg_decoded_bbox``), class-agnostic.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from ....registry import MODELS
from ...dense_heads.head_utils import reduce_mean
from ...layers.activation import build_activation_layer
from ...layers.norm import build_norm_layer
from ...layers.transformer import FFN, MultiheadAttention, build_transformer
from ...losses import accuracy
from ...utils import force_fp32, multi_apply
from ...weight_init import bias_init_with_prob
from .bbox_head import BBoxHead

__all__ = ["DIIHead"]

_RELU = {"type": "ReLU", "inplace": True}  # default ffn_act_cfg (read only)


def _ln(channels: int) -> nn.Module:
    return build_norm_layer(dict(type="LN"), channels)[1]


@MODELS.register_module()
class DIIHead(BBoxHead):
    """One stage of Sparse R-CNN (MMDetection 2.x arguments and state_dict).

    Args:
        num_classes: number of object classes.
        num_ffn_fcs: fully connected layers of the FFN.
        num_heads: heads of the proposals' self-attention.
        num_cls_fcs: Linear-LN-ReLU blocks before ``fc_cls``.
        num_reg_fcs: Linear-LN-ReLU blocks before ``fc_reg``.
        feedforward_channels: hidden channels of the FFN.
        in_channels: channels of the proposal features.
        dropout: dropout of attention, dynamic conv and FFN.
        ffn_act_cfg: activation of the FFN.
        dynamic_conv_cfg: ``DynamicConv`` config.
        loss_iou: IoU loss config (on pixel boxes).
        init_cfg: must be ``None``.
        **kwargs: :class:`BBoxHead` arguments (``loss_cls``, ``loss_bbox``, ``bbox_coder``...).
    """

    def __init__(self, num_classes: int = 80, num_ffn_fcs: int = 2, num_heads: int = 8,
                 num_cls_fcs: int = 1, num_reg_fcs: int = 3, feedforward_channels: int = 2048,
                 in_channels: int = 256, dropout: float = 0.0,
                 ffn_act_cfg: dict | None = _RELU,
                 dynamic_conv_cfg: dict | None = None, loss_iou: dict | None = None,
                 init_cfg: dict | list | None = None, **kwargs: Any) -> None:
        if init_cfg is not None:
            raise ValueError("To prevent abnormal initialization behavior, init_cfg is not "
                             "allowed to be set")
        dynamic_conv_cfg = dynamic_conv_cfg or dict(
            type="DynamicConv", in_channels=256, feat_channels=64, out_channels=256,
            input_feat_shape=7, act_cfg=dict(type="ReLU", inplace=True),
            norm_cfg=dict(type="LN"))
        loss_iou = loss_iou or dict(type="GIoULoss", loss_weight=2.0)
        for key in ("reg_decoded_bbox", "reg_class_agnostic"):
            if key in kwargs and not kwargs.pop(key):
                raise ValueError(f"DIIHead only supports `{key}=True`")
        super().__init__(num_classes=num_classes, reg_decoded_bbox=True,
                         reg_class_agnostic=True, init_cfg=init_cfg, **kwargs)
        self.loss_iou = MODELS.build(loss_iou)
        self.in_channels = in_channels
        self.fp16_enabled = False
        self.attention = MultiheadAttention(in_channels, num_heads, attn_drop=dropout)
        self.attention_norm = _ln(in_channels)
        self.instance_interactive_conv = build_transformer(dynamic_conv_cfg)
        self.instance_interactive_conv_dropout = nn.Dropout(dropout)
        self.instance_interactive_conv_norm = _ln(in_channels)
        self.ffn = FFN(in_channels, feedforward_channels, num_ffn_fcs, act_cfg=ffn_act_cfg,
                       ffn_drop=dropout)
        self.ffn_norm = _ln(in_channels)
        self.cls_fcs = nn.ModuleList()
        for _ in range(num_cls_fcs):
            self.cls_fcs.append(nn.Linear(in_channels, in_channels, bias=False))
            self.cls_fcs.append(_ln(in_channels))
            self.cls_fcs.append(build_activation_layer(dict(type="ReLU", inplace=True)))
        cls_out = self.num_classes if self.loss_cls.use_sigmoid else self.num_classes + 1
        self.fc_cls = nn.Linear(in_channels, cls_out)
        self.reg_fcs = nn.ModuleList()
        for _ in range(num_reg_fcs):
            self.reg_fcs.append(nn.Linear(in_channels, in_channels, bias=False))
            self.reg_fcs.append(_ln(in_channels))
            self.reg_fcs.append(build_activation_layer(dict(type="ReLU", inplace=True)))
        self.fc_reg = nn.Linear(in_channels, 4)

    def init_weights(self) -> None:
        """Xavier-uniform matrices; focal-prior ``fc_cls`` bias with sigmoid scores."""
        super().init_weights()
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)
        if self.loss_cls.use_sigmoid:
            nn.init.constant_(self.fc_cls.bias, bias_init_with_prob(0.01))

    def forward(self, roi_feat: Tensor, proposal_feat: Tensor
                ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """One stage on ``roi_feat: Tensor[B*P, C, s, s]`` and ``proposal_feat: Tensor[B, P, C]``.

        Returns:
            ``cls_score [B, P, C']``, ``bbox_delta [B, P, 4]``, ``obj_feat [B, P, C]`` (the
            next stage's proposal features) and ``attn_feats [B, P, C]``.
        """
        n, num_proposals = proposal_feat.shape[:2]
        proposal_feat = self.attention_norm(self.attention(proposal_feat.permute(1, 0, 2)))
        attn_feats = proposal_feat.permute(1, 0, 2)
        proposal_feat = attn_feats.reshape(-1, self.in_channels)
        iic = self.instance_interactive_conv(proposal_feat, roi_feat)
        proposal_feat = proposal_feat + self.instance_interactive_conv_dropout(iic)
        obj_feat = self.instance_interactive_conv_norm(proposal_feat)
        obj_feat = self.ffn_norm(self.ffn(obj_feat))
        cls_feat = reg_feat = obj_feat
        for layer in self.cls_fcs:
            cls_feat = layer(cls_feat)
        for layer in self.reg_fcs:
            reg_feat = layer(reg_feat)
        cls_score = self.fc_cls(cls_feat).view(n, num_proposals, -1)
        bbox_delta = self.fc_reg(reg_feat).view(n, num_proposals, 4)
        return cls_score, bbox_delta, obj_feat.view(n, num_proposals, self.in_channels), attn_feats

    @force_fp32
    def loss(self, cls_score: Tensor | None, bbox_pred: Tensor | None, labels: Tensor,
             label_weights: Tensor, bbox_targets: Tensor, bbox_weights: Tensor,
             imgs_whwh: Tensor | None = None, reduction_override: str | None = None,
             **kwargs: Any) -> dict:
        """``loss_cls``, ``pos_acc``, ``loss_bbox`` (L1 on boxes / image size) and ``loss_iou``,
        all averaged over the positives."""
        losses: dict = {}
        pos_inds = (labels >= 0) & (labels < self.num_classes)
        avg_factor = reduce_mean(pos_inds.sum().float())
        if cls_score is not None and cls_score.numel() > 0:
            losses["loss_cls"] = self.loss_cls(cls_score, labels, label_weights,
                                               avg_factor=avg_factor,
                                               reduction_override=reduction_override)
            losses["pos_acc"] = accuracy(cls_score[pos_inds], labels[pos_inds])
        if bbox_pred is not None:
            if pos_inds.any():
                pos_pred = bbox_pred.reshape(bbox_pred.size(0), 4)[pos_inds]
                whwh = imgs_whwh.reshape(bbox_pred.size(0), 4)[pos_inds]
                losses["loss_bbox"] = self.loss_bbox(pos_pred / whwh,
                                                     bbox_targets[pos_inds] / whwh,
                                                     bbox_weights[pos_inds],
                                                     avg_factor=avg_factor)
                losses["loss_iou"] = self.loss_iou(pos_pred, bbox_targets[pos_inds],
                                                   bbox_weights[pos_inds], avg_factor=avg_factor)
            else:
                losses["loss_bbox"] = bbox_pred.sum() * 0
                losses["loss_iou"] = bbox_pred.sum() * 0
        return losses

    def _get_target_single(self, pos_inds: Tensor, neg_inds: Tensor, pos_bboxes: Tensor,
                           neg_bboxes: Tensor, pos_gt_bboxes: Tensor, pos_gt_labels: Tensor,
                           cfg: Any) -> tuple[Tensor, ...]:
        """Targets in proposal order (matched ones at ``pos_inds``), not positives first."""
        num_samples = pos_bboxes.size(0) + neg_bboxes.size(0)
        labels = pos_bboxes.new_full((num_samples,), self.num_classes, dtype=torch.long)
        label_weights = pos_bboxes.new_zeros(num_samples)
        bbox_targets = pos_bboxes.new_zeros(num_samples, 4)
        bbox_weights = pos_bboxes.new_zeros(num_samples, 4)
        if pos_bboxes.size(0) > 0:
            labels[pos_inds] = pos_gt_labels
            pos_weight = cfg["pos_weight"]
            label_weights[pos_inds] = 1.0 if pos_weight <= 0 else pos_weight
            bbox_targets[pos_inds, :] = pos_gt_bboxes
            bbox_weights[pos_inds, :] = 1
        if neg_bboxes.size(0) > 0:
            label_weights[neg_inds] = 1.0
        return labels, label_weights, bbox_targets, bbox_weights

    def get_targets(self, sampling_results: list, gt_bboxes: list[Tensor],
                    gt_labels: list[Tensor], rcnn_train_cfg: Any, concat: bool = True) -> tuple:
        """Labels, label weights, box targets and box weights of every proposal."""
        outs = multi_apply(self._get_target_single,
                           [r.pos_inds for r in sampling_results],
                           [r.neg_inds for r in sampling_results],
                           [r.pos_bboxes for r in sampling_results],
                           [r.neg_bboxes for r in sampling_results],
                           [r.pos_gt_bboxes for r in sampling_results],
                           [r.pos_gt_labels for r in sampling_results], cfg=rcnn_train_cfg)
        if concat:
            return tuple(torch.cat(o, 0) for o in outs)
        return outs
