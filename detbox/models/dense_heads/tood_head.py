"""``TOODHead``: Task-aligned One-stage Object Detection (Feng et al., 2021), MMDetection v2's.

The T-head: one stack of ``stacked_convs`` convs (``inter_convs``, the first ``num_dcn`` of
them DCNv2) whose outputs, concatenated, feed

- two :class:`TaskDecomposition` modules (``cls_decomp``, ``reg_decomp``): a layer attention
  from the pooled features scales the stack's levels inside a 1x1 reduction conv;
- ``tood_cls`` on the classification features, times (geometric mean of sigmoids) a spatial
  probability map ``cls_prob_module`` of the stack: the score is a probability;
- ``tood_reg`` on the regression features: distances (``anchor_free``: ``exp``, from the
  anchor centers) or deltas (``anchor_based``), as boxes in units of the stride; each of the
  four box coordinates is then resampled at its own learnt offset (``reg_offset_module``, a
  depthwise 1x1 deformable conv with unit weights); resampled boxes that are not
  ``x1 <= x2, y1 <= y2`` fall back to the unsampled box.

Training: during the first ``train_cfg.initial_epoch`` epochs targets come from
``train_cfg.initial_assigner`` (ATSS, via ``ATSSHead``'s targets) with ``initial_loss_cls``
(focal loss on probabilities) and boxes weighted by centerness; afterwards from
:class:`TaskAlignedAssigner` on the predictions, with QFL against the normalised alignment
metric, which also weights the boxes. The epoch reaches the head through ``SetEpochInfoHook``
(``TOOD.set_epoch``).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...ops import distance2bbox
from ...registry import MODELS, TASK_UTILS
from ..layers import ConvModule, Scale, deform_conv2d
from ..utils import anchor_inside_flags, force_fp32, images_to_levels, multi_apply, unmap
from ..weight_init import bias_init_with_prob, normal_init
from .atss_head import ATSSHead
from .gfl_head import anchor_center
from .head_utils import filter_scores_and_topk, reduce_mean

__all__ = ["TOODHead", "TaskDecomposition", "sigmoid_geometric_mean"]


class _SigmoidGeometricMean(torch.autograd.Function):
    """``sqrt(sigmoid(x) * sigmoid(y))`` with its analytic gradient (finite where autograd's
    would overflow for two very negative inputs)."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, y: Tensor) -> Tensor:
        x_sigmoid, y_sigmoid = x.sigmoid(), y.sigmoid()
        z = (x_sigmoid * y_sigmoid).sqrt()
        ctx.save_for_backward(x_sigmoid, y_sigmoid, z)
        return z

    @staticmethod
    def backward(ctx: Any, grad_output: Tensor) -> tuple[Tensor, Tensor]:
        x_sigmoid, y_sigmoid, z = ctx.saved_tensors
        return (grad_output * z * (1 - x_sigmoid) / 2, grad_output * z * (1 - y_sigmoid) / 2)


def sigmoid_geometric_mean(x: Tensor, y: Tensor) -> Tensor:
    """``sqrt(sigmoid(x) * sigmoid(y))``, element-wise (broadcasting)."""
    return _SigmoidGeometricMean.apply(x, y)


class TaskDecomposition(nn.Module):
    """Task-specific features from the concatenated T-head stack (``[B, S * C, H, W]``).

    A layer attention ``layer_attention`` (1x1 convs on the pooled stack, sigmoid) gives one
    weight per stacked level and image; it scales the 1x1 ``reduction_conv``'s weight per
    level, which reduces the stack to ``C`` channels (then norm and ReLU).

    Args:
        feat_channels: channels ``C`` of each stacked level.
        stacked_convs: number ``S`` of stacked levels.
        la_down_rate: channel reduction of the layer attention.
        conv_cfg: conv config of ``reduction_conv``.
        norm_cfg: norm config of ``reduction_conv`` (its conv has a bias without one).
    """

    def __init__(self, feat_channels: int, stacked_convs: int, la_down_rate: int = 8,
                 conv_cfg: dict | None = None, norm_cfg: dict | None = None) -> None:
        super().__init__()
        self.feat_channels = feat_channels
        self.stacked_convs = stacked_convs
        self.in_channels = feat_channels * stacked_convs
        self.norm_cfg = norm_cfg
        self.layer_attention = nn.Sequential(
            nn.Conv2d(self.in_channels, self.in_channels // la_down_rate, 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(self.in_channels // la_down_rate, stacked_convs, 1, padding=0),
            nn.Sigmoid())
        self.reduction_conv = ConvModule(self.in_channels, feat_channels, 1, stride=1,
                                         padding=0, conv_cfg=conv_cfg, norm_cfg=norm_cfg,
                                         bias=norm_cfg is None)

    def init_weights(self) -> None:
        for m in self.layer_attention.modules():
            if isinstance(m, nn.Conv2d):
                normal_init(m, std=0.001)
        normal_init(self.reduction_conv.conv, std=0.01)

    def forward(self, feat: Tensor, avg_feat: Tensor | None = None) -> Tensor:
        """``feat: Tensor[B, S * C, H, W]`` (``avg_feat`` its ``[B, S * C, 1, 1]`` mean)
        -> ``Tensor[B, C, H, W]``."""
        b, _, h, w = feat.shape
        if avg_feat is None:
            avg_feat = F.adaptive_avg_pool2d(feat, (1, 1))
        weight = self.layer_attention(avg_feat)  # [B, S, 1, 1]
        conv_weight = weight.reshape(b, 1, self.stacked_convs, 1) * \
            self.reduction_conv.conv.weight.reshape(1, self.feat_channels, self.stacked_convs,
                                                    self.feat_channels)  # [B, C, S, C]
        conv_weight = conv_weight.reshape(b, self.feat_channels, self.in_channels)
        feat = torch.bmm(conv_weight, feat.reshape(b, self.in_channels, h * w))
        feat = feat.reshape(b, self.feat_channels, h, w)
        if self.norm_cfg is not None:
            feat = self.reduction_conv.norm(feat)
        return self.reduction_conv.activate(feat)


@MODELS.register_module()
class TOODHead(ATSSHead):
    """TOOD head.

    Args:
        num_classes: number of object classes (background excluded).
        in_channels: channels of the input feature maps.
        num_dcn: how many of the first ``inter_convs`` are DCNv2 (4 offset groups).
        anchor_type: ``'anchor_free'`` (distances from anchor centers) or ``'anchor_based'``
            (deltas of ``bbox_coder`` from the anchors).
        initial_loss_cls: classification loss of the ATSS epochs (probabilities in).
        **kwargs: ``ATSSHead`` arguments (``stacked_convs``, ``feat_channels``,
            ``anchor_generator``, ``bbox_coder``, ``loss_cls`` (QFL on probabilities),
            ``loss_bbox``, ``norm_cfg``, ``train_cfg`` with ``initial_epoch``,
            ``initial_assigner``, ``assigner``, ``alpha``, ``beta``, ``test_cfg``).
    """

    def __init__(self, num_classes: int, in_channels: int, num_dcn: int = 0,
                 anchor_type: str = "anchor_free", initial_loss_cls: dict | None = None,
                 **kwargs: Any) -> None:
        if anchor_type not in ("anchor_free", "anchor_based"):
            raise AssertionError(f"TOODHead: anchor_type must be 'anchor_free' or "
                                 f"'anchor_based', got {anchor_type!r}")
        self.num_dcn = num_dcn
        self.anchor_type = anchor_type
        self.epoch = 0  # set by SetEpochInfoHook through TOOD.set_epoch
        super().__init__(num_classes, in_channels, **kwargs)
        if self.train_cfg:
            self.initial_epoch = self.train_cfg["initial_epoch"]
            self.initial_assigner = TASK_UTILS.build(self.train_cfg["initial_assigner"])
            self.initial_loss_cls = MODELS.build(initial_loss_cls or dict(
                type="FocalLoss", use_sigmoid=True, activated=True, gamma=2.0, alpha=0.25,
                loss_weight=1.0))
            self.assigner = self.initial_assigner
            self.alignment_assigner = TASK_UTILS.build(self.train_cfg["assigner"])
            self.alpha = self.train_cfg["alpha"]
            self.beta = self.train_cfg["beta"]

    def _init_layers(self) -> None:
        self.relu = nn.ReLU(inplace=True)
        self.inter_convs = nn.ModuleList()
        for i in range(self.stacked_convs):
            conv_cfg = dict(type="DCNv2", deform_groups=4) if i < self.num_dcn else self.conv_cfg
            channels = self.in_channels if i == 0 else self.feat_channels
            self.inter_convs.append(ConvModule(channels, self.feat_channels, 3, stride=1,
                                               padding=1, conv_cfg=conv_cfg,
                                               norm_cfg=self.norm_cfg))
        self.cls_decomp = TaskDecomposition(self.feat_channels, self.stacked_convs,
                                            self.stacked_convs * 8, self.conv_cfg,
                                            self.norm_cfg)
        self.reg_decomp = TaskDecomposition(self.feat_channels, self.stacked_convs,
                                            self.stacked_convs * 8, self.conv_cfg,
                                            self.norm_cfg)
        self.tood_cls = nn.Conv2d(self.feat_channels,
                                  self.num_base_priors * self.cls_out_channels, 3, padding=1)
        self.tood_reg = nn.Conv2d(self.feat_channels, self.num_base_priors * 4, 3, padding=1)
        stack_channels = self.feat_channels * self.stacked_convs
        self.cls_prob_module = nn.Sequential(
            nn.Conv2d(stack_channels, self.feat_channels // 4, 1), nn.ReLU(inplace=True),
            nn.Conv2d(self.feat_channels // 4, 1, 3, padding=1))
        self.reg_offset_module = nn.Sequential(
            nn.Conv2d(stack_channels, self.feat_channels // 4, 1), nn.ReLU(inplace=True),
            nn.Conv2d(self.feat_channels // 4, 4 * 2, 3, padding=1))
        self.scales = nn.ModuleList([Scale(1.0) for _ in self.prior_generator.strides])

    def init_weights(self) -> None:
        """MMDetection's hand-written init (the head's ``init_cfg`` is not used)."""
        bias_cls = bias_init_with_prob(0.01)
        for m in self.inter_convs:
            normal_init(m.conv, std=0.01)
        for m in self.cls_prob_module:
            if isinstance(m, nn.Conv2d):
                normal_init(m, std=0.01)
        for m in self.reg_offset_module:
            if isinstance(m, nn.Conv2d):
                normal_init(m, std=0.001)
        normal_init(self.cls_prob_module[-1], std=0.01, bias=bias_cls)
        self.cls_decomp.init_weights()
        self.reg_decomp.init_weights()
        normal_init(self.tood_cls, std=0.01, bias=bias_cls)
        normal_init(self.tood_reg, std=0.01)
        self._is_init = True

    def forward(self, feats: tuple[Tensor, ...]) -> tuple[tuple[Tensor, ...], tuple[Tensor, ...]]:
        """Per level: scores (probabilities) ``[B, A*C, H, W]`` and boxes ``[B, A*4, H, W]``
        (xyxy in units of the level's stride)."""
        cls_scores, bbox_preds = [], []
        for idx, (x, scale, stride) in enumerate(
                zip(feats, self.scales, self.prior_generator.strides)):
            b, _, h, w = x.shape
            anchor = self.prior_generator.single_level_grid_priors((h, w), idx, device=x.device)
            anchor = torch.cat([anchor for _ in range(b)])
            inter_feats = []
            for inter_conv in self.inter_convs:
                x = inter_conv(x)
                inter_feats.append(x)
            feat = torch.cat(inter_feats, 1)
            avg_feat = F.adaptive_avg_pool2d(feat, (1, 1))
            cls_feat = self.cls_decomp(feat, avg_feat)
            reg_feat = self.reg_decomp(feat, avg_feat)
            cls_score = sigmoid_geometric_mean(self.tood_cls(cls_feat), self.cls_prob_module(feat))
            if self.anchor_type == "anchor_free":
                reg_dist = scale(self.tood_reg(reg_feat).exp()).float()
                reg_dist = reg_dist.permute(0, 2, 3, 1).reshape(-1, 4)
                reg_bbox = distance2bbox(anchor_center(anchor) / stride[0], reg_dist)
                reg_bbox = reg_bbox.reshape(b, h, w, 4).permute(0, 3, 1, 2)
            else:
                reg_dist = scale(self.tood_reg(reg_feat)).float()
                reg_dist = reg_dist.permute(0, 2, 3, 1).reshape(-1, 4)
                reg_bbox = self.bbox_coder.decode(anchor, reg_dist).reshape(
                    b, h, w, 4).permute(0, 3, 1, 2) / stride[0]
            reg_offset = self.reg_offset_module(feat)
            bbox_pred = self.deform_sampling(reg_bbox.contiguous(), reg_offset.contiguous())
            invalid = ((bbox_pred[:, [0]] > bbox_pred[:, [2]])
                       | (bbox_pred[:, [1]] > bbox_pred[:, [3]])).expand_as(bbox_pred)
            cls_scores.append(cls_score)
            bbox_preds.append(torch.where(invalid, reg_bbox, bbox_pred))
        return tuple(cls_scores), tuple(bbox_preds)

    def deform_sampling(self, feat: Tensor, offset: Tensor) -> Tensor:
        """Sample each channel of ``feat: Tensor[B, C, H, W]`` at its own offset
        (``offset: Tensor[B, 2 * C, H, W]``, ``(dy, dx)`` per channel), bilinearly."""
        channels = feat.shape[1]
        return deform_conv2d(feat, offset, feat.new_ones(channels, 1, 1, 1), 1, 0, 1,
                             channels, channels)

    def anchor_center(self, anchors: Tensor) -> Tensor:
        """Centers ``Tensor[N, 2]`` of ``anchors: Tensor[N, 4]``."""
        return anchor_center(anchors)

    @property
    def _initial_stage(self) -> bool:
        return self.epoch < self.initial_epoch

    def loss_single(self, anchors: Tensor, cls_score: Tensor, bbox_pred: Tensor,
                    labels: Tensor, label_weights: Tensor, bbox_targets: Tensor,
                    alignment_metrics: Tensor, stride: tuple[int, int]
                    ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """Losses of one level (sums; the caller divides) and their two normalisers."""
        if stride[0] != stride[1]:
            raise AssertionError("TOODHead: h stride is not equal to w stride")
        anchors = anchors.reshape(-1, 4)
        cls_score = cls_score.permute(0, 2, 3, 1).reshape(-1, self.cls_out_channels).contiguous()
        bbox_pred = bbox_pred.permute(0, 2, 3, 1).reshape(-1, 4)
        bbox_targets = bbox_targets.reshape(-1, 4)
        labels = labels.reshape(-1)
        alignment_metrics = alignment_metrics.reshape(-1)
        label_weights = label_weights.reshape(-1)
        if self._initial_stage:
            loss_cls = self.initial_loss_cls(cls_score, labels, label_weights, avg_factor=1.0)
        else:
            loss_cls = self.loss_cls(cls_score, (labels, alignment_metrics), label_weights,
                                     avg_factor=1.0)
        pos_inds = ((labels >= 0) & (labels < self.num_classes)).nonzero().squeeze(1)
        if len(pos_inds) > 0:
            pos_targets = bbox_targets[pos_inds]
            if self._initial_stage:
                pos_weight = self.centerness_target(anchors[pos_inds], pos_targets)
            else:
                pos_weight = alignment_metrics[pos_inds]
            loss_bbox = self.loss_bbox(bbox_pred[pos_inds], pos_targets / stride[0],
                                       weight=pos_weight, avg_factor=1.0)
        else:
            loss_bbox = bbox_pred.sum() * 0
            pos_weight = bbox_targets.new_tensor(0.0)
        return loss_cls, loss_bbox, alignment_metrics.sum(), pos_weight.sum()

    @force_fp32
    def loss(self, cls_scores: list[Tensor], bbox_preds: list[Tensor], gt_bboxes: list[Tensor],
             gt_labels: list[Tensor], img_metas: list[dict],
             gt_bboxes_ignore: list[Tensor] | None = None) -> dict | None:
        """``dict(loss_cls=[per level], loss_bbox=[per level])``."""
        num_imgs = len(img_metas)
        anchor_list, valid_flag_list = self.get_level_anchors(cls_scores, img_metas)
        flat_cls_scores = torch.cat([
            s.permute(0, 2, 3, 1).reshape(num_imgs, -1, self.cls_out_channels)
            for s in cls_scores], 1)
        flat_bbox_preds = torch.cat([
            p.permute(0, 2, 3, 1).reshape(num_imgs, -1, 4) * stride[0]
            for p, stride in zip(bbox_preds, self.prior_generator.strides)], 1)
        targets = self.get_targets(flat_cls_scores, flat_bbox_preds, anchor_list,
                                   valid_flag_list, gt_bboxes, img_metas,
                                   gt_bboxes_ignore_list=gt_bboxes_ignore,
                                   gt_labels_list=gt_labels)
        if targets is None:
            return None
        anchors, labels, label_weights, bbox_targets, alignment_metrics = targets
        losses_cls, losses_bbox, cls_avg_factors, bbox_avg_factors = multi_apply(
            self.loss_single, anchors, cls_scores, bbox_preds, labels, label_weights,
            bbox_targets, alignment_metrics, self.prior_generator.strides)
        cls_avg_factor = reduce_mean(sum(cls_avg_factors)).clamp_(min=1).item()
        bbox_avg_factor = reduce_mean(sum(bbox_avg_factors)).clamp_(min=1).item()
        return dict(loss_cls=[loss / cls_avg_factor for loss in losses_cls],
                    loss_bbox=[loss / bbox_avg_factor for loss in losses_bbox])

    def _get_bboxes_single(self, cls_score_list: list[Tensor], bbox_pred_list: list[Tensor],
                           score_factor_list: list[Tensor | None], mlvl_priors: list[Tensor],
                           img_meta: dict, cfg: Any, rescale: bool = False,
                           with_nms: bool = True, **kwargs: Any) -> tuple[Tensor, ...]:
        """Detections of one image: the scores are probabilities and the boxes decoded
        already (times the stride); ``score_thr``, ``nms_pre`` per level, then NMS."""
        cfg = self.test_cfg if cfg is None else cfg
        nms_pre = cfg.get("nms_pre", -1)
        mlvl_bboxes, mlvl_scores, mlvl_labels = [], [], []
        for cls_score, bbox_pred, priors, stride in zip(
                cls_score_list, bbox_pred_list, mlvl_priors, self.prior_generator.strides):
            if cls_score.size()[-2:] != bbox_pred.size()[-2:]:
                raise AssertionError("TOODHead: cls_score and bbox_pred sizes differ")
            bbox_pred = bbox_pred.permute(1, 2, 0).reshape(-1, 4) * stride[0]
            scores = cls_score.permute(1, 2, 0).reshape(-1, self.cls_out_channels)
            scores, labels, _, selected = filter_scores_and_topk(
                scores, cfg["score_thr"], nms_pre, dict(bbox_pred=bbox_pred, priors=priors))
            mlvl_bboxes.append(selected["bbox_pred"])
            mlvl_scores.append(scores)
            mlvl_labels.append(labels)
        return self._bbox_post_process(mlvl_scores, mlvl_labels, mlvl_bboxes,
                                       img_meta["scale_factor"], cfg, rescale, with_nms, None,
                                       **kwargs)

    def get_targets(self, cls_scores: Tensor, bbox_preds: Tensor, anchor_list: list,
                    valid_flag_list: list, gt_bboxes_list: list, img_metas: list[dict],
                    gt_bboxes_ignore_list: list | None = None,
                    gt_labels_list: list | None = None, label_channels: int = 1,
                    unmap_outputs: bool = True) -> tuple | None:
        """Per level ``(anchors, labels, label_weights, bbox_targets, alignment_metrics)``.

        In the initial epochs: ``ATSSHead``'s targets, the metric 1 at positives. Then the
        task-aligned targets of the predictions ``cls_scores: Tensor[B, N, C]`` and
        ``bbox_preds: Tensor[B, N, 4]`` (image pixels).
        """
        if self._initial_stage:
            targets = ATSSHead.get_targets(self, anchor_list, valid_flag_list, gt_bboxes_list,
                                           img_metas, gt_bboxes_ignore_list, gt_labels_list,
                                           label_channels, unmap_outputs)
            if targets is None:
                return None
            anchors, labels, label_weights, bbox_targets, bbox_weights = targets[:5]
            return (anchors, labels, label_weights, bbox_targets,
                    [weights[..., 0] for weights in bbox_weights])
        num_imgs = len(img_metas)
        num_level_anchors = [a.size(0) for a in anchor_list[0]]
        flat_anchors = [torch.cat(a) for a in anchor_list]
        flat_flags = [torch.cat(f) for f in valid_flag_list]
        if gt_bboxes_ignore_list is None:
            gt_bboxes_ignore_list = [None] * num_imgs
        if gt_labels_list is None:
            gt_labels_list = [None] * num_imgs
        results = multi_apply(self._get_aligned_target_single, cls_scores, bbox_preds,
                              flat_anchors, flat_flags, gt_bboxes_list, gt_bboxes_ignore_list,
                              gt_labels_list, img_metas, unmap_outputs=unmap_outputs)
        if any(labels is None for labels in results[1]):
            return None
        return tuple(images_to_levels(r, num_level_anchors) for r in results)

    def _get_aligned_target_single(self, cls_scores: Tensor, bbox_preds: Tensor,
                                   flat_anchors: Tensor, valid_flags: Tensor, gt_bboxes: Tensor,
                                   gt_bboxes_ignore: Tensor | None, gt_labels: Tensor | None,
                                   img_meta: dict, unmap_outputs: bool = True) -> tuple:
        """Task-aligned targets of one image: ``(anchors, labels, label_weights,
        bbox_targets, alignment_metrics)``, the metric of each ground truth's positives
        normalised to ``metric / max(metric) * max(IoU)``."""
        inside = anchor_inside_flags(flat_anchors, valid_flags, img_meta["img_shape"][:2],
                                     self.train_cfg["allowed_border"])
        if not inside.any():
            return (None,) * 5
        anchors = flat_anchors[inside, :]
        assign_result = self.alignment_assigner.assign(
            cls_scores[inside, :], bbox_preds[inside, :], anchors, gt_bboxes, gt_bboxes_ignore,
            gt_labels, self.alpha, self.beta)
        sampling_result = self.sampler.sample(assign_result, anchors, gt_bboxes)
        labels, label_weights, bbox_targets, bbox_weights = self._fill_targets(
            anchors, sampling_result, gt_labels)
        norm_metrics = anchors.new_zeros(anchors.shape[0], dtype=torch.float)
        pos_inds = sampling_result.pos_inds
        for gt_ind in torch.unique(sampling_result.pos_assigned_gt_inds):
            gt_pos = pos_inds[sampling_result.pos_assigned_gt_inds == gt_ind]
            metrics = assign_result.assign_metrics[gt_pos]
            ious = assign_result.max_overlaps[gt_pos]
            norm_metrics[gt_pos] = metrics / (metrics.max() + 10e-8) * ious.max()
        if unmap_outputs:
            total = flat_anchors.size(0)
            labels, label_weights, bbox_targets, _ = self._unmap_targets(
                (labels, label_weights, bbox_targets, bbox_weights), total, inside)
            anchors = unmap(anchors, total, inside)
            norm_metrics = unmap(norm_metrics, total, inside)
        return anchors, labels, label_weights, bbox_targets, norm_metrics
