"""``FCOSHead``: Fully Convolutional One-Stage detection (Tian et al., 2019), MMDetection v2's.

Every point of every level predicts class scores, the distances ``(left, top, right, bottom)``
to the sides of its box (``exp`` of a learnt per-level ``Scale``, or with ``norm_on_bbox`` a
ReLU'd value in units of the stride) and a centerness logit (``conv_centerness``, on the
classification tower, or on the regression tower with ``centerness_on_reg``).

Targets of a point: among the ground truths that contain it (or, with ``center_sampling``, whose
central region of radius ``center_sample_radius * stride`` contains it) and whose largest
distance lies in the level's ``regress_ranges``, the one of smallest area. Losses: focal loss
over all points, IoU-type box loss on positives weighted by the centerness target, and binary
cross-entropy on centerness. At test time scores are ``sigmoid(cls) * sigmoid(centerness)``.

>>> head = FCOSHead(num_classes=2, in_channels=8, feat_channels=8, stacked_convs=1,
...                 strides=[8], norm_cfg=None)
>>> cls, reg, ctr = head([torch.zeros(1, 8, 4, 4)])
>>> tuple(cls[0].shape), tuple(reg[0].shape), tuple(ctr[0].shape)
((1, 2, 4, 4), (1, 4, 4, 4), (1, 1, 4, 4))
"""

from __future__ import annotations

from typing import Any, Sequence

import torch
from torch import Tensor, nn

from ...registry import MODELS
from ..layers import Scale
from ..utils import force_fp32, multi_apply
from .anchor_free_head import AnchorFreeHead
from .head_utils import reduce_mean

__all__ = ["FCOSHead"]

INF = 1e8


@MODELS.register_module()
class FCOSHead(AnchorFreeHead):
    """FCOS head.

    Args:
        num_classes: number of object classes (background excluded).
        in_channels: channels of the input feature maps.
        regress_ranges: per level, the ``(min, max)`` of a point's largest target distance.
        center_sampling: positives only near the ground truth's center.
        center_sample_radius: that radius, in strides.
        norm_on_bbox: regress distances divided by the stride, through ReLU (not ``exp``).
        centerness_on_reg: compute centerness from the regression tower.
        loss_cls: classification loss config (default focal loss).
        loss_bbox: box loss config (default IoU loss).
        loss_centerness: centerness loss config (default sigmoid cross-entropy).
        norm_cfg: norm of the towers (default GN, 32 groups).
        init_cfg: initialisation (normal std 0.01; ``conv_cls`` bias for prior 0.01).
        **kwargs: ``AnchorFreeHead`` arguments (``feat_channels``, ``stacked_convs``,
            ``strides``, ``dcn_on_last_conv``, ``conv_bias``, ``train_cfg``, ``test_cfg``...).
    """

    def __init__(self, num_classes: int, in_channels: int,
                 regress_ranges: Sequence[tuple[float, float]] = (
                     (-1, 64), (64, 128), (128, 256), (256, 512), (512, INF)),
                 center_sampling: bool = False, center_sample_radius: float = 1.5,
                 norm_on_bbox: bool = False, centerness_on_reg: bool = False,
                 loss_cls: dict | None = None, loss_bbox: dict | None = None,
                 loss_centerness: dict | None = None,
                 norm_cfg: dict | None = dict(  # noqa: B006 (never mutated)
                     type="GN", num_groups=32, requires_grad=True),
                 init_cfg: dict | list | None = None, **kwargs: Any) -> None:
        self.regress_ranges = regress_ranges
        self.center_sampling = center_sampling
        self.center_sample_radius = center_sample_radius
        self.norm_on_bbox = norm_on_bbox
        self.centerness_on_reg = centerness_on_reg
        loss_cls = loss_cls or dict(type="FocalLoss", use_sigmoid=True, gamma=2.0, alpha=0.25,
                                    loss_weight=1.0)
        loss_bbox = loss_bbox or dict(type="IoULoss", loss_weight=1.0)
        loss_centerness = loss_centerness or dict(type="CrossEntropyLoss", use_sigmoid=True,
                                                  loss_weight=1.0)
        super().__init__(num_classes, in_channels, loss_cls=loss_cls, loss_bbox=loss_bbox,
                         norm_cfg=norm_cfg, init_cfg=init_cfg, **kwargs)
        self.loss_centerness = MODELS.build(loss_centerness)

    def _init_layers(self) -> None:
        super()._init_layers()
        self.conv_centerness = nn.Conv2d(self.feat_channels, 1, 3, padding=1)
        self.scales = nn.ModuleList([Scale(1.0) for _ in self.strides])

    def forward(self, feats: tuple[Tensor, ...]) -> tuple[list[Tensor], ...]:
        """Per level: ``cls_score [B, C, H, W]``, ``bbox_pred [B, 4, H, W]`` (distances in
        pixels, or in strides when training with ``norm_on_bbox``), ``centerness [B, 1, H, W]``."""
        return multi_apply(self.forward_single, feats, self.scales, self.strides)

    def forward_single(self, x: Tensor, scale: nn.Module, stride: Any
                       ) -> tuple[Tensor, Tensor, Tensor]:
        cls_score, bbox_pred, cls_feat, reg_feat = super().forward_single(x)
        centerness = self.conv_centerness(reg_feat if self.centerness_on_reg else cls_feat)
        bbox_pred = scale(bbox_pred).float()
        if self.norm_on_bbox:
            bbox_pred = bbox_pred.clamp(min=0)
            if not self.training:
                bbox_pred = bbox_pred * stride
        else:
            bbox_pred = bbox_pred.exp()
        return cls_score, bbox_pred, centerness

    @force_fp32
    def loss(self, cls_scores: list[Tensor], bbox_preds: list[Tensor],
             centernesses: list[Tensor], gt_bboxes: list[Tensor], gt_labels: list[Tensor],
             img_metas: list[dict], gt_bboxes_ignore: list[Tensor] | None = None) -> dict:
        """``dict(loss_cls, loss_bbox, loss_centerness)`` over all levels and images."""
        if not len(cls_scores) == len(bbox_preds) == len(centernesses):
            raise AssertionError("cls_scores, bbox_preds and centernesses differ in levels")
        featmap_sizes = [f.size()[-2:] for f in cls_scores]
        points = self.prior_generator.grid_priors(featmap_sizes, dtype=bbox_preds[0].dtype,
                                                  device=bbox_preds[0].device)
        labels, bbox_targets = self.get_targets(points, gt_bboxes, gt_labels)
        num_imgs = cls_scores[0].size(0)
        # level-major, then image, then location: the order of get_targets' outputs
        flat_cls = torch.cat([c.permute(0, 2, 3, 1).reshape(-1, self.cls_out_channels)
                              for c in cls_scores])
        flat_bbox = torch.cat([b.permute(0, 2, 3, 1).reshape(-1, 4) for b in bbox_preds])
        flat_ctr = torch.cat([c.permute(0, 2, 3, 1).reshape(-1) for c in centernesses])
        flat_labels = torch.cat(labels)
        flat_targets = torch.cat(bbox_targets)
        flat_points = torch.cat([p.repeat(num_imgs, 1) for p in points])

        pos_inds = ((flat_labels >= 0) & (flat_labels < self.num_classes)).nonzero().reshape(-1)
        num_pos = torch.tensor(len(pos_inds), dtype=torch.float, device=bbox_preds[0].device)
        num_pos = max(reduce_mean(num_pos), 1.0)
        loss_cls = self.loss_cls(flat_cls, flat_labels, avg_factor=num_pos)

        pos_bbox_preds = flat_bbox[pos_inds]
        pos_centerness = flat_ctr[pos_inds]
        pos_targets = flat_targets[pos_inds]
        centerness_targets = self.centerness_target(pos_targets)
        centerness_denorm = max(reduce_mean(centerness_targets.sum().detach()), 1e-6)
        if len(pos_inds) > 0:
            pos_points = flat_points[pos_inds]
            loss_bbox = self.loss_bbox(self.bbox_coder.decode(pos_points, pos_bbox_preds),
                                       self.bbox_coder.decode(pos_points, pos_targets),
                                       weight=centerness_targets, avg_factor=centerness_denorm)
            loss_centerness = self.loss_centerness(pos_centerness, centerness_targets,
                                                   avg_factor=num_pos)
        else:
            loss_bbox = pos_bbox_preds.sum()
            loss_centerness = pos_centerness.sum()
        return dict(loss_cls=loss_cls, loss_bbox=loss_bbox, loss_centerness=loss_centerness)

    def get_targets(self, points: list[Tensor], gt_bboxes_list: list[Tensor],
                    gt_labels_list: list[Tensor]) -> tuple[list[Tensor], list[Tensor]]:
        """Labels and distance targets of every point.

        Args:
            points: per level ``Tensor[P_l, 2]``.
            gt_bboxes_list: per image ``Tensor[K, 4]`` xyxy.
            gt_labels_list: per image ``Tensor[K]``.

        Returns:
            Per level, ``labels: Tensor[B * P_l]`` (``num_classes`` for background) and
            ``bbox_targets: Tensor[B * P_l, 4]`` (divided by the stride with ``norm_on_bbox``),
            image after image.
        """
        if len(points) != len(self.regress_ranges):
            raise AssertionError(f"{len(points)} levels of points but "
                                 f"{len(self.regress_ranges)} regress_ranges")
        num_levels = len(points)
        ranges = torch.cat([points[i].new_tensor(self.regress_ranges[i])[None].expand_as(points[i])
                            for i in range(num_levels)])
        concat_points = torch.cat(points, dim=0)
        num_points = [p.size(0) for p in points]
        labels_list, targets_list = multi_apply(
            self._get_target_single, gt_bboxes_list, gt_labels_list, points=concat_points,
            regress_ranges=ranges, num_points_per_lvl=num_points)
        labels_list = [labels.split(num_points, 0) for labels in labels_list]
        targets_list = [targets.split(num_points, 0) for targets in targets_list]
        level_labels, level_targets = [], []
        for i in range(num_levels):
            level_labels.append(torch.cat([labels[i] for labels in labels_list]))
            targets = torch.cat([t[i] for t in targets_list])
            if self.norm_on_bbox:
                targets = targets / self.strides[i]
            level_targets.append(targets)
        return level_labels, level_targets

    def _get_target_single(self, gt_bboxes: Tensor, gt_labels: Tensor, points: Tensor,
                           regress_ranges: Tensor, num_points_per_lvl: list[int]
                           ) -> tuple[Tensor, Tensor]:
        """``labels: Tensor[P]`` and ``bbox_targets: Tensor[P, 4]`` of one image."""
        num_points = points.size(0)
        num_gts = gt_labels.size(0)
        if num_gts == 0:
            return (gt_labels.new_full((num_points,), self.num_classes),
                    gt_bboxes.new_zeros((num_points, 4)))
        areas = (gt_bboxes[:, 2] - gt_bboxes[:, 0]) * (gt_bboxes[:, 3] - gt_bboxes[:, 1])
        areas = areas[None].repeat(num_points, 1)  # [P, K]
        regress_ranges = regress_ranges[:, None, :].expand(num_points, num_gts, 2)
        gt_bboxes = gt_bboxes[None].expand(num_points, num_gts, 4)
        xs = points[:, 0, None].expand(num_points, num_gts)
        ys = points[:, 1, None].expand(num_points, num_gts)
        left = xs - gt_bboxes[..., 0]
        right = gt_bboxes[..., 2] - xs
        top = ys - gt_bboxes[..., 1]
        bottom = gt_bboxes[..., 3] - ys
        bbox_targets = torch.stack((left, top, right, bottom), -1)  # [P, K, 4]

        if self.center_sampling:
            radius = self.center_sample_radius
            center_xs = (gt_bboxes[..., 0] + gt_bboxes[..., 2]) / 2
            center_ys = (gt_bboxes[..., 1] + gt_bboxes[..., 3]) / 2
            stride = center_xs.new_zeros(center_xs.shape)
            start = 0
            for level, count in enumerate(num_points_per_lvl):
                stride[start:start + count] = self.strides[level] * radius
                start += count
            # the central region, cut to the box
            x_mins = torch.where(center_xs - stride > gt_bboxes[..., 0], center_xs - stride,
                                 gt_bboxes[..., 0])
            y_mins = torch.where(center_ys - stride > gt_bboxes[..., 1], center_ys - stride,
                                 gt_bboxes[..., 1])
            x_maxs = torch.where(center_xs + stride > gt_bboxes[..., 2], gt_bboxes[..., 2],
                                 center_xs + stride)
            y_maxs = torch.where(center_ys + stride > gt_bboxes[..., 3], gt_bboxes[..., 3],
                                 center_ys + stride)
            center_bbox = torch.stack((xs - x_mins, ys - y_mins, x_maxs - xs, y_maxs - ys), -1)
            inside_gt_bbox_mask = center_bbox.min(-1)[0] > 0
        else:
            inside_gt_bbox_mask = bbox_targets.min(-1)[0] > 0

        max_regress_distance = bbox_targets.max(-1)[0]
        inside_regress_range = ((max_regress_distance >= regress_ranges[..., 0])
                                & (max_regress_distance <= regress_ranges[..., 1]))
        areas[inside_gt_bbox_mask == 0] = INF
        areas[inside_regress_range == 0] = INF
        min_area, min_area_inds = areas.min(dim=1)
        labels = gt_labels[min_area_inds]
        labels[min_area == INF] = self.num_classes
        bbox_targets = bbox_targets[range(num_points), min_area_inds]
        return labels, bbox_targets

    def centerness_target(self, pos_bbox_targets: Tensor) -> Tensor:
        """``sqrt(min(l, r) / max(l, r) * min(t, b) / max(t, b))`` of ``Tensor[N, 4]`` distances."""
        left_right = pos_bbox_targets[:, [0, 2]]
        top_bottom = pos_bbox_targets[:, [1, 3]]
        if len(left_right) == 0:
            return left_right[..., 0]
        ratio = (left_right.min(dim=-1)[0] / left_right.max(dim=-1)[0]) * (
            top_bottom.min(dim=-1)[0] / top_bottom.max(dim=-1)[0])
        return torch.sqrt(ratio)
