"""``ATSSHead``: the head of ATSS (Zhang et al., 2020), MMDetection v2's names and defaults.

FCOS-like towers on anchors: ``cls_convs.i`` / ``reg_convs.i`` (GN by default) feed
``atss_cls``, ``atss_reg`` (deltas, times a learnt per-level ``scales.i``) and
``atss_centerness``. Anchors are assigned by :class:`ATSSAssigner`; the box loss (GIoU on
decoded boxes) is weighted by the centerness of the anchor's center inside its ground truth and
averaged over the sum of those weights. At test time scores are
``sigmoid(cls) * sigmoid(centerness)``.

>>> head = ATSSHead(num_classes=2, in_channels=8, feat_channels=8, stacked_convs=0,
...                 anchor_generator=dict(type='AnchorGenerator', ratios=[1.0],
...                     octave_base_scale=8, scales_per_octave=1, strides=[8]))
>>> cls, reg, ctr = head([torch.zeros(1, 8, 4, 4)])
>>> tuple(cls[0].shape), tuple(reg[0].shape), tuple(ctr[0].shape)
((1, 2, 4, 4), (1, 4, 4, 4), (1, 1, 4, 4))
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from ...registry import MODELS, TASK_UTILS
from ..layers import Scale
from ..utils import anchor_inside_flags, force_fp32, images_to_levels, multi_apply, unmap
from .anchor_head import AnchorHead
from .head_utils import conv_towers, mean_count, reduce_mean, run_towers

__all__ = ["ATSSHead"]


@MODELS.register_module()
class ATSSHead(AnchorHead):
    """ATSS head.

    Args:
        num_classes: number of object classes (background excluded).
        in_channels: channels of the input feature maps.
        pred_kernel_size: kernel size of the three predictor convs (DyHead uses 1).
        stacked_convs: 3x3 convs in each tower (0 with DyHead).
        conv_cfg: conv layer config of the towers.
        norm_cfg: norm of the towers (default GN, 32 groups).
        reg_decoded_bbox: compute the box loss on decoded boxes (needed by IoU losses).
        loss_centerness: centerness loss config (default sigmoid cross-entropy).
        init_cfg: initialisation (normal std 0.01; ``atss_cls`` bias for prior 0.01).
        **kwargs: ``AnchorHead`` arguments (``feat_channels``, ``anchor_generator``,
            ``bbox_coder``, ``loss_cls``, ``loss_bbox``, ``train_cfg``, ``test_cfg``).
    """

    def __init__(self, num_classes: int, in_channels: int, pred_kernel_size: int = 3,
                 stacked_convs: int = 4, conv_cfg: dict | None = None,
                 norm_cfg: dict | None = dict(  # noqa: B006 (never mutated)
                     type="GN", num_groups=32, requires_grad=True),
                 reg_decoded_bbox: bool = True, loss_centerness: dict | None = None,
                 init_cfg: dict | list | None = None, **kwargs: Any) -> None:
        self.pred_kernel_size = pred_kernel_size
        self.stacked_convs = stacked_convs
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        if init_cfg is None:
            init_cfg = dict(type="Normal", layer="Conv2d", std=0.01,
                            override=dict(type="Normal", name="atss_cls", std=0.01,
                                          bias_prob=0.01))
        super().__init__(num_classes, in_channels, reg_decoded_bbox=reg_decoded_bbox,
                         init_cfg=init_cfg, **kwargs)
        self.sampling = False
        if self.train_cfg:
            self.assigner = TASK_UTILS.build(self.train_cfg["assigner"])
            self.sampler = TASK_UTILS.build(dict(type="PseudoSampler"))
        loss_centerness = loss_centerness or dict(type="CrossEntropyLoss", use_sigmoid=True,
                                                  loss_weight=1.0)
        self.loss_centerness = MODELS.build(loss_centerness)

    def _init_layers(self) -> None:
        self.relu = nn.ReLU(inplace=True)
        self.cls_convs, self.reg_convs = conv_towers(self.stacked_convs, self.in_channels,
                                                     self.feat_channels, self.conv_cfg,
                                                     self.norm_cfg)
        k = self.pred_kernel_size
        self.atss_cls = nn.Conv2d(self.feat_channels,
                                  self.num_base_priors * self.cls_out_channels, k,
                                  padding=k // 2)
        self.atss_reg = nn.Conv2d(self.feat_channels, self.num_base_priors * 4, k,
                                  padding=k // 2)
        self.atss_centerness = nn.Conv2d(self.feat_channels, self.num_base_priors, k,
                                         padding=k // 2)
        self.scales = nn.ModuleList([Scale(1.0) for _ in self.prior_generator.strides])

    def forward(self, feats: tuple[Tensor, ...]) -> tuple[list[Tensor], ...]:
        """Per level: ``cls_score [B, A*C, H, W]``, ``bbox_pred [B, A*4, H, W]``,
        ``centerness [B, A, H, W]``."""
        return multi_apply(self.forward_single, feats, self.scales)

    def forward_single(self, x: Tensor, scale: nn.Module) -> tuple[Tensor, Tensor, Tensor]:
        cls_feat, reg_feat = run_towers(x, self.cls_convs, self.reg_convs)
        cls_score = self.atss_cls(cls_feat)
        bbox_pred = scale(self.atss_reg(reg_feat)).float()
        centerness = self.atss_centerness(reg_feat)
        return cls_score, bbox_pred, centerness

    def loss_single(self, anchors: Tensor, cls_score: Tensor, bbox_pred: Tensor,
                    centerness: Tensor, labels: Tensor, label_weights: Tensor,
                    bbox_targets: Tensor, num_total_samples: float
                    ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """Losses of one level for the batch, and the sum of its centerness targets."""
        anchors = anchors.reshape(-1, 4)
        cls_score = cls_score.permute(0, 2, 3, 1).reshape(-1, self.cls_out_channels).contiguous()
        bbox_pred = bbox_pred.permute(0, 2, 3, 1).reshape(-1, 4)
        centerness = centerness.permute(0, 2, 3, 1).reshape(-1)
        bbox_targets = bbox_targets.reshape(-1, 4)
        labels = labels.reshape(-1)
        label_weights = label_weights.reshape(-1)
        loss_cls = self.loss_cls(cls_score, labels, label_weights, avg_factor=num_total_samples)
        pos_inds = ((labels >= 0) & (labels < self.num_classes)).nonzero().squeeze(1)
        if len(pos_inds) > 0:
            pos_targets = bbox_targets[pos_inds]
            pos_anchors = anchors[pos_inds]
            centerness_targets = self.centerness_target(pos_anchors, pos_targets)
            pos_decoded = self.bbox_coder.decode(pos_anchors, bbox_pred[pos_inds])
            loss_bbox = self.loss_bbox(pos_decoded, pos_targets, weight=centerness_targets,
                                       avg_factor=1.0)
            loss_centerness = self.loss_centerness(centerness[pos_inds], centerness_targets,
                                                   avg_factor=num_total_samples)
        else:
            loss_bbox = bbox_pred.sum() * 0
            loss_centerness = centerness.sum() * 0
            centerness_targets = bbox_targets.new_tensor(0.0)
        return loss_cls, loss_bbox, loss_centerness, centerness_targets.sum()

    @force_fp32
    def loss(self, cls_scores: list[Tensor], bbox_preds: list[Tensor],
             centernesses: list[Tensor], gt_bboxes: list[Tensor], gt_labels: list[Tensor],
             img_metas: list[dict], gt_bboxes_ignore: list[Tensor] | None = None
             ) -> dict | None:
        """``dict(loss_cls=[per level], loss_bbox=[per level], loss_centerness=[per level])``."""
        device = cls_scores[0].device
        anchor_list, targets = self.get_loss_targets(cls_scores, gt_bboxes, gt_labels, img_metas,
                                                     gt_bboxes_ignore)
        if targets is None:
            return None
        anchors, labels, label_weights, bbox_targets, _, num_total_pos, _ = targets
        num_total_samples = mean_count(num_total_pos, device)
        losses_cls, losses_bbox, losses_centerness, bbox_avg_factor = multi_apply(
            self.loss_single, anchors, cls_scores, bbox_preds, centernesses, labels,
            label_weights, bbox_targets, num_total_samples=num_total_samples)
        bbox_avg_factor = reduce_mean(sum(bbox_avg_factor)).clamp_(min=1).item()
        losses_bbox = [loss / bbox_avg_factor for loss in losses_bbox]
        return dict(loss_cls=losses_cls, loss_bbox=losses_bbox,
                    loss_centerness=losses_centerness)

    def centerness_target(self, anchors: Tensor, gts: Tensor) -> Tensor:
        """FCOS centerness of the anchors' centers inside their ground truths (``[N]``)."""
        anchors_cx = (anchors[:, 2] + anchors[:, 0]) / 2
        anchors_cy = (anchors[:, 3] + anchors[:, 1]) / 2
        left_right = torch.stack([anchors_cx - gts[:, 0], gts[:, 2] - anchors_cx], dim=1)
        top_bottom = torch.stack([anchors_cy - gts[:, 1], gts[:, 3] - anchors_cy], dim=1)
        centerness = torch.sqrt(
            (left_right.min(dim=-1)[0] / left_right.max(dim=-1)[0])
            * (top_bottom.min(dim=-1)[0] / top_bottom.max(dim=-1)[0]))
        if torch.isnan(centerness).any():
            raise AssertionError("ATSSHead: NaN centerness target (an anchor center on the "
                                 "border of its ground truth)")
        return centerness

    def get_targets(self, anchor_list: list, valid_flag_list: list, gt_bboxes_list: list,
                    img_metas: list[dict], gt_bboxes_ignore_list: list | None = None,
                    gt_labels_list: list | None = None, label_channels: int = 1,
                    unmap_outputs: bool = True) -> tuple | None:
        """As ``AnchorHead.get_targets``, with the anchors per level first:
        ``(anchors, labels, label_weights, bbox_targets, bbox_weights, num_pos, num_neg)``."""
        num_imgs = len(img_metas)
        num_level_anchors = [a.size(0) for a in anchor_list[0]]
        flat_anchors = [torch.cat(a) for a in anchor_list]
        flat_flags = [torch.cat(f) for f in valid_flag_list]
        if gt_bboxes_ignore_list is None:
            gt_bboxes_ignore_list = [None] * num_imgs
        if gt_labels_list is None:
            gt_labels_list = [None] * num_imgs
        (all_anchors, all_labels, all_label_weights, all_bbox_targets, all_bbox_weights,
         pos_inds_list, neg_inds_list) = multi_apply(
            self._get_target_single, flat_anchors, flat_flags,
            [num_level_anchors] * num_imgs, gt_bboxes_list, gt_bboxes_ignore_list,
            gt_labels_list, img_metas, label_channels=label_channels,
            unmap_outputs=unmap_outputs)
        if any(labels is None for labels in all_labels):
            return None
        num_total_pos = sum(max(inds.numel(), 1) for inds in pos_inds_list)
        num_total_neg = sum(max(inds.numel(), 1) for inds in neg_inds_list)
        return (images_to_levels(all_anchors, num_level_anchors),
                images_to_levels(all_labels, num_level_anchors),
                images_to_levels(all_label_weights, num_level_anchors),
                images_to_levels(all_bbox_targets, num_level_anchors),
                images_to_levels(all_bbox_weights, num_level_anchors),
                num_total_pos, num_total_neg)

    def _get_target_single(self, flat_anchors: Tensor, valid_flags: Tensor,
                           num_level_anchors: list[int], gt_bboxes: Tensor,
                           gt_bboxes_ignore: Tensor | None, gt_labels: Tensor | None,
                           img_meta: dict, label_channels: int = 1, unmap_outputs: bool = True
                           ) -> tuple:
        """Targets of one image's anchors (``Tensor[A, 4]``), assigned by ATSS."""
        inside = anchor_inside_flags(flat_anchors, valid_flags, img_meta["img_shape"][:2],
                                     self.train_cfg["allowed_border"])
        if not inside.any():
            return (None,) * 7
        anchors = flat_anchors[inside, :]
        num_level_inside = [int(flags.sum()) for flags in torch.split(inside, num_level_anchors)]
        assign_result = self.assigner.assign(anchors, num_level_inside, gt_bboxes,
                                             gt_bboxes_ignore, gt_labels)
        sampling_result = self.sampler.sample(assign_result, anchors, gt_bboxes)
        targets = self._fill_targets(anchors, sampling_result, gt_labels)
        if unmap_outputs:
            total = flat_anchors.size(0)
            anchors = unmap(anchors, total, inside)
            targets = self._unmap_targets(targets, total, inside)
        return (anchors, *targets, sampling_result.pos_inds, sampling_result.neg_inds)
