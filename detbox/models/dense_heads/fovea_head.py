"""``FoveaHead``: FoveaBox (Kong et al., 2020), MMDetection v2's names and defaults.

An ``AnchorFreeHead`` whose ground truths are split over the levels by size
(``scale_ranges`` of ``sqrt(area)``): on its levels, the locations inside the box shrunk by
``sigma`` around its center (the *fovea*) are positive, larger boxes painted first so smaller
ones win; they regress ``log`` of the distances from the location to the box's sides over the
level's ``base_edge_list`` entry (clamped to ``[1/16, 16]``). With ``with_deform`` the class
branch is aligned to the predicted box by a deformable conv (:class:`FeatureAlign`) and widened
4x.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch
from torch import Tensor, nn

from ...registry import MODELS
from ..layers import ConvModule, FeatureAdaption
from ..utils import multi_apply
from .anchor_free_head import AnchorFreeHead

__all__ = ["FoveaHead", "FeatureAlign"]


class FeatureAlign(FeatureAdaption):
    """FoveaBox's alignment: :class:`FeatureAdaption` whose offsets come from a 1x1 conv of
    the predicted box distances (``[B, 4, H, W]``, not detached), then ReLU.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        kernel_size: kernel of the deformable conv.
        deform_groups: offset groups.
        init_cfg: initialisation (normal std 0.1; ``conv_adaption`` std 0.01).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3,
                 deform_groups: int = 4, init_cfg: dict | list | None = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, deform_groups, init_cfg,
                         shape_channels=4, detach_shape=False)


@MODELS.register_module()
class FoveaHead(AnchorFreeHead):
    """FoveaBox's head.

    Args:
        num_classes: number of object classes (background excluded).
        in_channels: channels of the input feature maps.
        base_edge_list: the distance unit of each level.
        scale_ranges: ``(low, high)`` of ``sqrt(area)`` of the boxes each level learns.
        sigma: the fovea's relative size.
        with_deform: align the class branch to the predicted box.
        deform_groups: offset groups of that alignment.
        init_cfg: initialisation (normal std 0.01; ``conv_cls`` bias for prior 0.01).
        **kwargs: ``AnchorFreeHead`` arguments.
    """

    def __init__(self, num_classes: int, in_channels: int,
                 base_edge_list: Sequence[int] = (16, 32, 64, 128, 256),
                 scale_ranges: Sequence[tuple[int, int]] = ((8, 32), (16, 64), (32, 128),
                                                            (64, 256), (128, 512)),
                 sigma: float = 0.4, with_deform: bool = False, deform_groups: int = 4,
                 init_cfg: dict | list | None = None, **kwargs: Any) -> None:
        self.base_edge_list = base_edge_list
        self.scale_ranges = scale_ranges
        self.sigma = sigma
        self.with_deform = with_deform
        self.deform_groups = deform_groups
        if init_cfg is None:
            init_cfg = dict(type="Normal", layer="Conv2d", std=0.01,
                            override=dict(type="Normal", name="conv_cls", std=0.01,
                                          bias_prob=0.01))
        super().__init__(num_classes, in_channels, init_cfg=init_cfg, **kwargs)

    def _init_layers(self) -> None:
        self._init_reg_convs()
        self.conv_reg = nn.Conv2d(self.feat_channels, 4, 3, padding=1)
        if not self.with_deform:
            self._init_cls_convs()
            self.conv_cls = nn.Conv2d(self.feat_channels, self.cls_out_channels, 3, padding=1)
            return
        wide = self.feat_channels * 4
        bias = self.norm_cfg is None
        self.cls_convs = nn.ModuleList([
            ConvModule(self.feat_channels, wide, 3, stride=1, padding=1,
                       conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg, bias=bias),
            ConvModule(wide, wide, 1, stride=1, padding=0, conv_cfg=self.conv_cfg,
                       norm_cfg=self.norm_cfg, bias=bias)])
        self.feature_adaption = FeatureAlign(self.feat_channels, self.feat_channels,
                                             kernel_size=3, deform_groups=self.deform_groups)
        self.conv_cls = nn.Conv2d(wide, self.cls_out_channels, 3, padding=1)

    def forward_single(self, x: Tensor) -> tuple[Tensor, Tensor]:  # type: ignore[override]
        """``(cls_score [B, C, H, W], bbox_pred [B, 4, H, W])`` (log distances)."""
        reg_feat = x
        for layer in self.reg_convs:
            reg_feat = layer(reg_feat)
        bbox_pred = self.conv_reg(reg_feat)
        cls_feat = x
        if self.with_deform:
            cls_feat = self.feature_adaption(cls_feat, bbox_pred.exp())
        for layer in self.cls_convs:
            cls_feat = layer(cls_feat)
        return self.conv_cls(cls_feat), bbox_pred

    def forward(self, feats: tuple[Tensor, ...]) -> tuple[list[Tensor], ...]:
        return multi_apply(self.forward_single, feats)

    def loss(self, cls_scores: list[Tensor], bbox_preds: list[Tensor],
             gt_bbox_list: list[Tensor], gt_label_list: list[Tensor], img_metas: list[dict],
             gt_bboxes_ignore: list[Tensor] | None = None) -> dict:
        """``dict(loss_cls, loss_bbox)``: focal loss over all locations (averaged over
        positives + images), box loss over the positives."""
        if len(cls_scores) != len(bbox_preds):
            raise AssertionError("cls_scores and bbox_preds need one tensor per level each")
        featmap_sizes = [f.size()[-2:] for f in cls_scores]
        points = self.prior_generator.grid_priors(featmap_sizes, dtype=bbox_preds[0].dtype,
                                                  device=bbox_preds[0].device)
        num_imgs = cls_scores[0].size(0)
        flat_cls = torch.cat([s.permute(0, 2, 3, 1).reshape(-1, self.cls_out_channels)
                              for s in cls_scores])
        flat_bbox = torch.cat([p.permute(0, 2, 3, 1).reshape(-1, 4) for p in bbox_preds])
        labels, bbox_targets = self.get_targets(gt_bbox_list, gt_label_list, featmap_sizes,
                                                points)
        pos_inds = ((labels >= 0) & (labels < self.num_classes)).nonzero().view(-1)
        num_pos = len(pos_inds)
        loss_cls = self.loss_cls(flat_cls, labels, avg_factor=num_pos + num_imgs)
        if num_pos > 0:
            pos_targets = bbox_targets[pos_inds]
            loss_bbox = self.loss_bbox(flat_bbox[pos_inds], pos_targets,
                                       torch.ones_like(pos_targets), avg_factor=num_pos)
        else:
            loss_bbox = torch.tensor(0, dtype=flat_bbox.dtype, device=flat_bbox.device)
        return dict(loss_cls=loss_cls, loss_bbox=loss_bbox)

    def get_targets(self, gt_bbox_list: list[Tensor], gt_label_list: list[Tensor],
                    featmap_sizes: list, points: list[Tensor]) -> tuple[Tensor, Tensor]:
        """Labels ``Tensor[L]`` and log-distance targets ``Tensor[L, 4]``, flattened level by
        level, image by image within a level (the order of the flattened outputs)."""
        label_list, target_list = multi_apply(self._get_target_single, gt_bbox_list,
                                              gt_label_list, featmap_size_list=featmap_sizes,
                                              point_list=points)
        labels = torch.cat([torch.cat([t.flatten() for t in level])
                            for level in zip(*label_list)])
        targets = torch.cat([torch.cat([t.reshape(-1, 4) for t in level])
                             for level in zip(*target_list)])
        return labels, targets

    def _get_target_single(self, gt_bboxes_raw: Tensor, gt_labels_raw: Tensor,
                           featmap_size_list: list | None = None,
                           point_list: list[Tensor] | None = None
                           ) -> tuple[list[Tensor], list[Tensor]]:
        """Per level ``labels [H, W]`` and ``log targets [H, W, 4]`` of one image."""
        gt_areas = torch.sqrt((gt_bboxes_raw[:, 2] - gt_bboxes_raw[:, 0])
                              * (gt_bboxes_raw[:, 3] - gt_bboxes_raw[:, 1]))
        label_list, target_list = [], []
        for base_len, (low, high), stride, featmap_size, points in zip(
                self.base_edge_list, self.scale_ranges, self.strides, featmap_size_list,
                point_list):
            points = points.view(*featmap_size, 2)
            x, y = points[..., 0], points[..., 1]
            labels = gt_labels_raw.new_zeros(featmap_size) + self.num_classes
            targets = gt_bboxes_raw.new_ones(featmap_size[0], featmap_size[1], 4)
            hit = ((gt_areas >= low) & (gt_areas <= high)).nonzero().flatten()
            if len(hit) == 0:
                label_list.append(labels)
                target_list.append(torch.log(targets))
                continue
            _, order = torch.sort(-gt_areas[hit])  # large boxes first, small ones on top
            hit = hit[order]
            gt_bboxes = gt_bboxes_raw[hit, :] / stride
            half_w = 0.5 * (gt_bboxes[:, 2] - gt_bboxes[:, 0])
            half_h = 0.5 * (gt_bboxes[:, 3] - gt_bboxes[:, 1])
            w_max, h_max = featmap_size[1] - 1, featmap_size[0] - 1
            left = torch.ceil(gt_bboxes[:, 0] + (1 - self.sigma) * half_w - 0.5).long()
            right = torch.floor(gt_bboxes[:, 0] + (1 + self.sigma) * half_w - 0.5).long()
            top = torch.ceil(gt_bboxes[:, 1] + (1 - self.sigma) * half_h - 0.5).long()
            down = torch.floor(gt_bboxes[:, 1] + (1 + self.sigma) * half_h - 0.5).long()
            for px1, py1, px2, py2, label, (gx1, gy1, gx2, gy2) in zip(
                    left.clamp(0, w_max), top.clamp(0, h_max), right.clamp(0, w_max),
                    down.clamp(0, h_max), gt_labels_raw[hit], gt_bboxes_raw[hit, :]):
                rows, cols = slice(py1, py2 + 1), slice(px1, px2 + 1)
                labels[rows, cols] = label
                targets[rows, cols, 0] = (x[rows, cols] - gx1) / base_len
                targets[rows, cols, 1] = (y[rows, cols] - gy1) / base_len
                targets[rows, cols, 2] = (gx2 - x[rows, cols]) / base_len
                targets[rows, cols, 3] = (gy2 - y[rows, cols]) / base_len
            label_list.append(labels)
            target_list.append(torch.log(targets.clamp(min=1. / 16, max=16.)))
        return label_list, target_list

    def _decode_level(self, priors: Tensor, bbox_pred: Tensor, level: int,
                      max_shape: Sequence[int]) -> Tensor:
        """Boxes from log distances in units of the level's base edge, clamped to
        ``[0, size - 1]``."""
        base_len = self.base_edge_list[level]
        dist = bbox_pred.exp() * base_len
        x, y = priors[:, 0], priors[:, 1]
        return torch.stack([(x - dist[:, 0]).clamp(min=0, max=max_shape[1] - 1),
                            (y - dist[:, 1]).clamp(min=0, max=max_shape[0] - 1),
                            (x + dist[:, 2]).clamp(min=0, max=max_shape[1] - 1),
                            (y + dist[:, 3]).clamp(min=0, max=max_shape[0] - 1)], -1)
