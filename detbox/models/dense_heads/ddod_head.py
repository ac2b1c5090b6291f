"""``DDODHead``: disentangled dense object detection (Chen et al., 2022), MMDetection v2's.

ATSS-like towers (the first conv of each a DCN with ``use_dcn``) and predictors ``atss_cls``,
``atss_reg`` (times ``scales.i``) and ``atss_iou``. Classification and regression get their own
assignments: ``train_cfg.assigner`` and ``train_cfg.reg_assigner`` are ATSS assigners whose
cost mixes the predicted score and IoU (``alpha``). Each level's losses are re-weighted by
``2 - normalised count of its positives`` (counts accumulated over the whole training, as
MMDetection does); the IoU branch learns the IoU of the decoded positives (BCE) and is the
score factor at test time.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from ...ops import bbox_overlaps
from ...registry import MODELS, TASK_UTILS
from ..layers import Scale
from ..utils import anchor_inside_flags, force_fp32, images_to_levels, multi_apply, unmap
from ..weight_init import bias_init_with_prob, normal_init
from .anchor_head import AnchorHead
from .head_utils import conv_towers, mean_count, run_towers

__all__ = ["DDODHead"]


@MODELS.register_module()
class DDODHead(AnchorHead):
    """DDOD's head.

    Args:
        num_classes: number of object classes (background excluded).
        in_channels: channels of the input feature maps.
        stacked_convs: convs in each tower.
        conv_cfg: conv layer config of the towers.
        use_dcn: make the first conv of each tower a DCN.
        norm_cfg: norm of the towers (GN, 32 groups).
        loss_iou: loss of the IoU branch (sigmoid BCE).
        **kwargs: ``AnchorHead`` arguments.
    """

    def __init__(self, num_classes: int, in_channels: int, stacked_convs: int = 4,
                 conv_cfg: dict | None = None, use_dcn: bool = True,
                 norm_cfg: dict | None = dict(  # noqa: B006 (never mutated)
                     type="GN", num_groups=32, requires_grad=True),
                 loss_iou: dict | None = None, **kwargs: Any) -> None:
        self.stacked_convs = stacked_convs
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        self.use_dcn = use_dcn
        super().__init__(num_classes, in_channels, **kwargs)
        self.sampling = False
        if self.train_cfg:
            self.cls_assigner = TASK_UTILS.build(self.train_cfg["assigner"])
            self.reg_assigner = TASK_UTILS.build(self.train_cfg["reg_assigner"])
            self.sampler = TASK_UTILS.build(dict(type="PseudoSampler"))
        self.loss_iou = MODELS.build(loss_iou or dict(type="CrossEntropyLoss", use_sigmoid=True,
                                                      loss_weight=1.0))

    def _init_layers(self) -> None:
        self.relu = nn.ReLU(inplace=True)
        self.cls_convs, self.reg_convs = conv_towers(
            self.stacked_convs, self.in_channels, self.feat_channels, self.conv_cfg,
            self.norm_cfg,
            first_conv_cfg=dict(type="DCN", deform_groups=1) if self.use_dcn else None)
        a = self.num_base_priors
        self.atss_cls = nn.Conv2d(self.feat_channels, a * self.cls_out_channels, 3, padding=1)
        self.atss_reg = nn.Conv2d(self.feat_channels, a * 4, 3, padding=1)
        self.atss_iou = nn.Conv2d(self.feat_channels, a, 3, padding=1)
        self.scales = nn.ModuleList([Scale(1.0) for _ in self.prior_generator.strides])
        num_levels = len(self.prior_generator.strides)
        self.cls_num_pos_samples_per_level = [0.0] * num_levels
        self.reg_num_pos_samples_per_level = [0.0] * num_levels

    def init_weights(self) -> None:
        """Normal(0.01) tower convs and predictors; ``atss_cls`` bias for a prior of 0.01."""
        for m in list(self.cls_convs) + list(self.reg_convs):
            normal_init(m.conv, std=0.01)
        normal_init(self.atss_reg, std=0.01)
        normal_init(self.atss_iou, std=0.01)
        normal_init(self.atss_cls, std=0.01, bias=bias_init_with_prob(0.01))
        self._is_init = True

    def forward(self, feats: tuple[Tensor, ...]) -> tuple[list[Tensor], ...]:
        """Per level ``cls_score``, ``bbox_pred`` (deltas) and ``iou_pred``."""
        return multi_apply(self.forward_single, feats, self.scales)

    def forward_single(self, x: Tensor, scale: nn.Module  # type: ignore[override]
                       ) -> tuple[Tensor, Tensor, Tensor]:
        cls_feat, reg_feat = run_towers(x, self.cls_convs, self.reg_convs)
        return (self.atss_cls(cls_feat), scale(self.atss_reg(reg_feat)).float(),
                self.atss_iou(reg_feat))

    def loss_cls_single(self, cls_score: Tensor, labels: Tensor, label_weights: Tensor,
                        reweight_factor: float, num_total_samples: float) -> tuple[Tensor]:
        cls_score = cls_score.permute(0, 2, 3, 1).reshape(-1, self.cls_out_channels)
        loss = self.loss_cls(cls_score.contiguous(), labels.reshape(-1),
                             label_weights.reshape(-1), avg_factor=num_total_samples)
        return (reweight_factor * loss,)

    def loss_reg_single(self, anchors: Tensor, bbox_pred: Tensor, iou_pred: Tensor,
                        labels: Tensor, label_weights: Tensor, bbox_targets: Tensor,
                        bbox_weights: Tensor, reweight_factor: float,
                        num_total_samples: float) -> tuple[Tensor, Tensor]:
        anchors = anchors.reshape(-1, 4)
        bbox_pred = bbox_pred.permute(0, 2, 3, 1).reshape(-1, 4)
        iou_pred = iou_pred.permute(0, 2, 3, 1).reshape(-1)
        bbox_targets = bbox_targets.reshape(-1, 4)
        bbox_weights = bbox_weights.reshape(-1, 4)
        labels = labels.reshape(-1)
        iou_targets = label_weights.new_zeros(labels.shape)
        iou_weights = label_weights.new_zeros(labels.shape)
        iou_weights[(bbox_weights.sum(axis=1) > 0).nonzero(as_tuple=False)] = 1.
        pos_inds = ((labels >= 0) & (labels < self.num_classes)).nonzero(
            as_tuple=False).squeeze(1)
        if len(pos_inds) > 0:
            pos_anchors = anchors[pos_inds]
            pred = self.bbox_coder.decode(pos_anchors, bbox_pred[pos_inds])
            target = self.bbox_coder.decode(pos_anchors, bbox_targets[pos_inds])
            loss_bbox = self.loss_bbox(pred, target, avg_factor=num_total_samples)
            iou_targets[pos_inds] = bbox_overlaps(pred.detach(), target, is_aligned=True)
            loss_iou = self.loss_iou(iou_pred, iou_targets, iou_weights,
                                     avg_factor=num_total_samples)
        else:
            loss_bbox = bbox_pred.sum() * 0
            loss_iou = iou_pred.sum() * 0
        return reweight_factor * loss_bbox, reweight_factor * loss_iou

    def calc_reweight_factor(self, labels_list: list[Tensor]) -> list[float]:
        """``2 - (count - min) / (max - min)`` per level, on the running positive counts."""
        for i, labels in enumerate(labels_list):
            pos = ((labels >= 0) & (labels < self.num_classes)).nonzero(as_tuple=False)
            self.cls_num_pos_samples_per_level[i] += len(pos.squeeze(1))
        low = min(self.cls_num_pos_samples_per_level)
        high = max(self.cls_num_pos_samples_per_level)
        interval = 1. / (high - low + 1e-10)
        return [2. - (n - low) * interval for n in self.cls_num_pos_samples_per_level]

    @force_fp32
    def loss(self, cls_scores: list[Tensor], bbox_preds: list[Tensor], iou_preds: list[Tensor],
             gt_bboxes: list[Tensor], gt_labels: list[Tensor], img_metas: list[dict],
             gt_bboxes_ignore: list[Tensor] | None = None) -> dict | None:
        """``dict(loss_cls, loss_bbox, loss_iou)``, one entry per level each."""
        device = cls_scores[0].device
        anchor_list, valid_flag_list = self.get_level_anchors(cls_scores, img_metas)
        num_imgs = len(img_metas)
        num_level = [a.size(0) for a in anchor_list[0]]
        flat_anchors = [torch.cat(a) for a in anchor_list]
        flat_flags = [torch.cat(f) for f in valid_flag_list]
        ignore = gt_bboxes_ignore or [None] * num_imgs
        scores = [torch.cat([c[i].permute(1, 2, 0).reshape(-1, self.num_base_priors
                                                           * self.cls_out_channels)
                             for c in cls_scores]) for i in range(num_imgs)]
        preds = [torch.cat([p[i].permute(1, 2, 0).reshape(-1, self.num_base_priors * 4)
                            for p in bbox_preds]) for i in range(num_imgs)]
        losses: dict[str, list[Tensor]] = {}
        for stage in ("cls", "reg"):
            targets = multi_apply(self._get_target_single, flat_anchors, flat_flags, scores,
                                  preds, [num_level] * num_imgs, gt_bboxes, ignore, gt_labels,
                                  img_metas, is_cls_assigner=stage == "cls")
            if any(lab is None for lab in targets[1]):
                return None
            anchors, labels, label_weights, bbox_targets, bbox_weights = (
                images_to_levels(t, num_level) for t in targets[:5])
            num_pos = sum(max(inds.numel(), 1) for inds in targets[5])
            num_samples = mean_count(num_pos, device)
            factors = self.calc_reweight_factor(labels)
            if stage == "cls":
                losses["loss_cls"], = multi_apply(self.loss_cls_single, cls_scores, labels,
                                                  label_weights, factors,
                                                  num_total_samples=num_samples)
            else:
                losses["loss_bbox"], losses["loss_iou"] = multi_apply(
                    self.loss_reg_single, anchors, bbox_preds, iou_preds, labels, label_weights,
                    bbox_targets, bbox_weights, factors, num_total_samples=num_samples)
        return losses

    def _get_target_single(self, flat_anchors: Tensor, valid_flags: Tensor,
                           cls_scores: Tensor, bbox_preds: Tensor, num_level_anchors: list[int],
                           gt_bboxes: Tensor, gt_bboxes_ignore: Tensor | None,
                           gt_labels: Tensor | None, img_meta: dict,
                           is_cls_assigner: bool = True) -> tuple:
        """One image's ``(anchors, labels, label_weights, bbox_targets, bbox_weights,
        pos_inds, neg_inds)`` from the classification or the regression assigner."""
        inside = anchor_inside_flags(flat_anchors, valid_flags, img_meta["img_shape"][:2],
                                     self.train_cfg["allowed_border"])
        if not inside.any():
            return (None,) * 7
        anchors = flat_anchors[inside, :]
        num_level_inside = [int(f.sum()) for f in torch.split(inside, num_level_anchors)]
        assigner = self.cls_assigner if is_cls_assigner else self.reg_assigner
        decoded = self.bbox_coder.decode(anchors, bbox_preds[inside, :])
        assign_result = assigner.assign(anchors, num_level_inside, gt_bboxes, gt_bboxes_ignore,
                                        gt_labels, cls_scores[inside, :], decoded)
        sampling_result = self.sampler.sample(assign_result, anchors, gt_bboxes)
        targets = self._fill_targets(anchors, sampling_result, gt_labels)
        total = flat_anchors.size(0)
        targets = self._unmap_targets(targets, total, inside)
        return (unmap(anchors, total, inside), *targets, sampling_result.pos_inds,
                sampling_result.neg_inds)
