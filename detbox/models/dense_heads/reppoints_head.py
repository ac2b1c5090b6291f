"""``RepPointsHead``: RepPoints (Yang et al., 2019), MMDetection v2's names and defaults.

Two towers (``cls_convs.i``, ``reg_convs.i``). The point branch predicts ``num_points``
initial points per location (``reppoints_pts_init_conv`` -> ``reppoints_pts_init_out``,
``(dy, dx)`` pairs in stride units; with ``use_grid_points`` a box regression laid out as a
grid); their offsets from the regular 3x3 kernel grid drive two deformable convs
(``reppoints_cls_conv`` -> ``reppoints_cls_out`` for the classes, ``reppoints_pts_refine_conv``
-> ``reppoints_pts_refine_out`` for a refinement added to the detached initial points). Point
sets become boxes by ``transform_method``: ``'moment'`` (mean +- std times a learnt
``moment_transfer``), ``'minmax'`` or ``'partial_minmax'`` (the first 4 points).

Training: the initial boxes are assigned by ``train_cfg.init.assigner`` (``PointAssigner`` on
the points, or a box assigner on ``point_base_scale`` squares), the refined ones by
``train_cfg.refine.assigner`` on the initial boxes; smooth-L1 losses on boxes normalised by
``point_base_scale * stride``, focal loss with the refine stage's labels. At test time the head
returns boxes in stride units and decodes them around the (offset-free) points.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch
from torch import Tensor, nn

from ...registry import MODELS, TASK_UTILS
from ..layers import DeformConv2d
from ..task_modules import MlvlPointGenerator
from ..utils import images_to_levels, multi_apply, unmap
from .anchor_free_head import AnchorFreeHead
from .head_utils import conv_towers

__all__ = ["RepPointsHead"]


@MODELS.register_module()
class RepPointsHead(AnchorFreeHead):
    """RepPoints head.

    Args:
        num_classes: number of object classes (background excluded).
        in_channels: channels of the input feature maps.
        point_feat_channels: channels of the point-branch and deformable convs.
        num_points: points per location (an odd square).
        gradient_mul: the share of the gradient that flows from the deformable convs' offsets
            into the initial points.
        point_strides: stride of each level.
        point_base_scale: box size, in strides, of a point's initial square.
        loss_cls: classification loss (focal loss; another type switches sampling on).
        loss_bbox_init: loss of the initial boxes.
        loss_bbox_refine: loss of the refined boxes.
        use_grid_points: regress boxes laid out as grid points instead of free points.
        center_init: start the points at the location (else on a grid of the base scale).
        transform_method: ``'moment'``, ``'minmax'`` or ``'partial_minmax'``.
        moment_mul: share of the gradient into ``moment_transfer``.
        init_cfg: initialisation (normal std 0.01; ``reppoints_cls_out`` bias for prior 0.01).
        **kwargs: ``AnchorFreeHead`` arguments (``feat_channels``, ``stacked_convs``,
            ``conv_cfg``, ``norm_cfg``, ``train_cfg``, ``test_cfg``, ...).
    """

    def __init__(self, num_classes: int, in_channels: int, point_feat_channels: int = 256,
                 num_points: int = 9, gradient_mul: float = 0.1,
                 point_strides: Sequence[int] = (8, 16, 32, 64, 128),
                 point_base_scale: int = 4, loss_cls: dict | None = None,
                 loss_bbox_init: dict | None = None, loss_bbox_refine: dict | None = None,
                 use_grid_points: bool = False, center_init: bool = True,
                 transform_method: str = "moment", moment_mul: float = 0.01,
                 init_cfg: dict | list | None = None, **kwargs: Any) -> None:
        loss_cls = loss_cls or dict(type="FocalLoss", use_sigmoid=True, gamma=2.0, alpha=0.25,
                                    loss_weight=1.0)
        loss_bbox_init = loss_bbox_init or dict(type="SmoothL1Loss", beta=1.0 / 9.0,
                                                loss_weight=0.5)
        loss_bbox_refine = loss_bbox_refine or dict(type="SmoothL1Loss", beta=1.0 / 9.0,
                                                    loss_weight=1.0)
        if init_cfg is None:
            init_cfg = dict(type="Normal", layer="Conv2d", std=0.01,
                            override=dict(type="Normal", name="reppoints_cls_out", std=0.01,
                                          bias_prob=0.01))
        if transform_method not in ("moment", "minmax", "partial_minmax"):
            raise NotImplementedError(f"RepPointsHead: unknown transform_method "
                                      f"{transform_method!r}")
        self.num_points = num_points
        self.point_feat_channels = point_feat_channels
        self.use_grid_points = use_grid_points
        self.center_init = center_init
        self.dcn_kernel = int(np.sqrt(num_points))
        self.dcn_pad = int((self.dcn_kernel - 1) / 2)
        if self.dcn_kernel * self.dcn_kernel != num_points or self.dcn_kernel % 2 != 1:
            raise AssertionError(f"RepPointsHead: num_points must be an odd square, got "
                                 f"{num_points}")
        base = np.arange(-self.dcn_pad, self.dcn_pad + 1).astype(np.float64)
        base_offset = np.stack([np.repeat(base, self.dcn_kernel),
                                np.tile(base, self.dcn_kernel)], axis=1).reshape(-1)  # y, x
        self.dcn_base_offset = torch.tensor(base_offset).view(1, -1, 1, 1)
        super().__init__(num_classes, in_channels, loss_cls=loss_cls, init_cfg=init_cfg,
                         **kwargs)
        self.gradient_mul = gradient_mul
        self.point_base_scale = point_base_scale
        self.point_strides = point_strides
        self.prior_generator = MlvlPointGenerator(self.point_strides, offset=0.)
        self.sampling = loss_cls["type"] not in ["FocalLoss"]
        if self.train_cfg:
            self.init_assigner = TASK_UTILS.build(self.train_cfg["init"]["assigner"])
            self.refine_assigner = TASK_UTILS.build(self.train_cfg["refine"]["assigner"])
            if self.sampling and "sampler" in self.train_cfg:
                sampler_cfg = self.train_cfg["sampler"]
            else:
                sampler_cfg = dict(type="PseudoSampler")
            self.sampler = TASK_UTILS.build(sampler_cfg)
        self.transform_method = transform_method
        if self.transform_method == "moment":
            self.moment_transfer = nn.Parameter(data=torch.zeros(2), requires_grad=True)
            self.moment_mul = moment_mul
        self.loss_bbox_init = MODELS.build(loss_bbox_init)
        self.loss_bbox_refine = MODELS.build(loss_bbox_refine)

    def _init_layers(self) -> None:
        self.relu = nn.ReLU(inplace=True)
        self.cls_convs, self.reg_convs = conv_towers(self.stacked_convs, self.in_channels,
                                                     self.feat_channels, self.conv_cfg,
                                                     self.norm_cfg)
        pts_out_dim = 4 if self.use_grid_points else 2 * self.num_points
        k, pad, feat, pfeat = (self.dcn_kernel, self.dcn_pad, self.feat_channels,
                               self.point_feat_channels)
        self.reppoints_cls_conv = DeformConv2d(feat, pfeat, k, 1, pad)
        self.reppoints_cls_out = nn.Conv2d(pfeat, self.cls_out_channels, 1, 1, 0)
        self.reppoints_pts_init_conv = nn.Conv2d(feat, pfeat, 3, 1, 1)
        self.reppoints_pts_init_out = nn.Conv2d(pfeat, pts_out_dim, 1, 1, 0)
        self.reppoints_pts_refine_conv = DeformConv2d(feat, pfeat, k, 1, pad)
        self.reppoints_pts_refine_out = nn.Conv2d(pfeat, pts_out_dim, 1, 1, 0)

    def points2bbox(self, pts: Tensor, y_first: bool = True) -> Tensor:
        """Boxes ``Tensor[B, 4, ...]`` (xyxy) of point sets ``Tensor[B, 2 * P, ...]``
        (``(y, x)`` pairs with ``y_first``, else ``(x, y)``)."""
        pts = pts.view(pts.shape[0], -1, 2, *pts.shape[2:])  # [B, P, 2, ...]
        pts_y = pts[:, :, 0, ...] if y_first else pts[:, :, 1, ...]
        pts_x = pts[:, :, 1, ...] if y_first else pts[:, :, 0, ...]
        if self.transform_method == "partial_minmax":
            pts_y, pts_x = pts_y[:, :4, ...], pts_x[:, :4, ...]
        if self.transform_method in ("minmax", "partial_minmax"):
            return torch.cat([pts_x.min(dim=1, keepdim=True)[0], pts_y.min(dim=1, keepdim=True)[0],
                              pts_x.max(dim=1, keepdim=True)[0], pts_y.max(dim=1, keepdim=True)[0]],
                             dim=1)
        y_mean = pts_y.mean(dim=1, keepdim=True)
        x_mean = pts_x.mean(dim=1, keepdim=True)
        y_std = torch.std(pts_y - y_mean, dim=1, keepdim=True)
        x_std = torch.std(pts_x - x_mean, dim=1, keepdim=True)
        transfer = (self.moment_transfer * self.moment_mul
                    + self.moment_transfer.detach() * (1 - self.moment_mul))
        half_w = x_std * torch.exp(transfer[0])
        half_h = y_std * torch.exp(transfer[1])
        return torch.cat([x_mean - half_w, y_mean - half_h, x_mean + half_w, y_mean + half_h],
                         dim=1)

    def gen_grid_from_reg(self, reg: Tensor, previous_boxes: Tensor) -> tuple[Tensor, Tensor]:
        """Grid points ``Tensor[B, 2 * P, H, W]`` (``(y, x)`` pairs) and boxes
        ``Tensor[B, 4, H, W]`` from a box regression ``reg`` (``dx, dy, dw, dh`` relative to
        ``previous_boxes`` ``Tensor[B or 1, 4, H or 1, W or 1]``)."""
        b, _, h, w = reg.shape
        bxy = (previous_boxes[:, :2, ...] + previous_boxes[:, 2:, ...]) / 2.
        bwh = (previous_boxes[:, 2:, ...] - previous_boxes[:, :2, ...]).clamp(min=1e-6)
        grid_topleft = bxy + bwh * reg[:, :2, ...] - 0.5 * bwh * torch.exp(reg[:, 2:, ...])
        grid_wh = bwh * torch.exp(reg[:, 2:, ...])
        left, top = grid_topleft[:, [0], ...], grid_topleft[:, [1], ...]
        width, height = grid_wh[:, [0], ...], grid_wh[:, [1], ...]
        interval = torch.linspace(0., 1., self.dcn_kernel).view(
            1, self.dcn_kernel, 1, 1).type_as(reg)
        grid_x = (left + width * interval).unsqueeze(1).repeat(1, self.dcn_kernel, 1, 1, 1)
        grid_x = grid_x.view(b, -1, h, w)
        grid_y = (top + height * interval).unsqueeze(2).repeat(1, 1, self.dcn_kernel, 1, 1)
        grid_y = grid_y.view(b, -1, h, w)
        grid_yx = torch.stack([grid_y, grid_x], dim=2).view(b, -1, h, w)
        boxes = torch.cat([left, top, left + width, top + height], 1)
        return grid_yx, boxes

    def forward(self, feats: tuple[Tensor, ...]) -> tuple[list[Tensor], ...]:
        """Training: per level ``(cls_out, pts_init, pts_refine)``; eval: ``(cls_out,
        bbox [B, 4, H, W] in stride units)``."""
        return multi_apply(self.forward_single, feats)

    def forward_single(self, x: Tensor) -> tuple[Tensor, ...]:  # type: ignore[override]
        dcn_base_offset = self.dcn_base_offset.type_as(x)
        if self.use_grid_points or not self.center_init:
            scale = self.point_base_scale / 2
            points_init = dcn_base_offset / dcn_base_offset.max() * scale
            bbox_init = x.new_tensor([-scale, -scale, scale, scale]).view(1, 4, 1, 1)
        else:
            points_init = 0
        cls_feat = x
        for conv in self.cls_convs:
            cls_feat = conv(cls_feat)
        pts_feat = x
        for conv in self.reg_convs:
            pts_feat = conv(pts_feat)
        pts_out_init = self.reppoints_pts_init_out(self.relu(self.reppoints_pts_init_conv(
            pts_feat)))
        if self.use_grid_points:
            pts_out_init, bbox_out_init = self.gen_grid_from_reg(pts_out_init,
                                                                 bbox_init.detach())
        else:
            pts_out_init = pts_out_init + points_init
        grad_mul = ((1 - self.gradient_mul) * pts_out_init.detach()
                    + self.gradient_mul * pts_out_init)
        dcn_offset = grad_mul - dcn_base_offset
        cls_out = self.reppoints_cls_out(self.relu(self.reppoints_cls_conv(cls_feat,
                                                                           dcn_offset)))
        pts_out_refine = self.reppoints_pts_refine_out(self.relu(
            self.reppoints_pts_refine_conv(pts_feat, dcn_offset)))
        if self.use_grid_points:
            pts_out_refine, _ = self.gen_grid_from_reg(pts_out_refine, bbox_out_init.detach())
        else:
            pts_out_refine = pts_out_refine + pts_out_init.detach()
        if self.training:
            return cls_out, pts_out_init, pts_out_refine
        return cls_out, self.points2bbox(pts_out_refine)

    def get_points(self, featmap_sizes: list, img_metas: list[dict], device: Any
                   ) -> tuple[list[list[Tensor]], list[list[Tensor]]]:  # type: ignore[override]
        """Per image per level: points ``Tensor[H * W, 4]`` (``x, y, stride_w, stride_h``)
        and their valid flags."""
        points = self.prior_generator.grid_priors(featmap_sizes, device=device,
                                                  with_stride=True)
        points_list = [[p.clone() for p in points] for _ in img_metas]
        flags = [self.prior_generator.valid_flags(featmap_sizes, m["pad_shape"])
                 for m in img_metas]
        return points_list, flags

    def centers_to_bboxes(self, point_list: list[list[Tensor]]) -> list[list[Tensor]]:
        """Squares of ``point_base_scale`` strides around each point, per image per level."""
        bbox_list = []
        for points in point_list:
            boxes = []
            for level, stride in enumerate(self.point_strides):
                scale = self.point_base_scale * stride * 0.5
                shift = torch.Tensor([-scale, -scale, scale, scale]).view(1, 4).type_as(
                    points[0])
                boxes.append(torch.cat([points[level][:, :2]] * 2, dim=1) + shift)
            bbox_list.append(boxes)
        return bbox_list

    def offset_to_pts(self, center_list: list[list[Tensor]], pred_list: list[Tensor]
                      ) -> list[Tensor]:
        """Per level ``Tensor[B, H * W, 2 * P]`` ``(x, y)`` points in pixels from the
        ``(dy, dx)`` predictions ``Tensor[B, 2 * P, H, W]`` in stride units."""
        pts_list = []
        for level, stride in enumerate(self.point_strides):
            per_image = []
            for img in range(len(center_list)):
                center = center_list[img][level][:, :2].repeat(1, self.num_points)
                yx = pred_list[level][img].permute(1, 2, 0).view(-1, 2 * self.num_points)
                xy = torch.stack([yx[..., 1::2], yx[..., 0::2]], -1).view(*yx.shape[:-1], -1)
                per_image.append(xy * stride + center)
            pts_list.append(torch.stack(per_image, 0))
        return pts_list

    def _point_target_single(self, flat_proposals: Tensor, valid_flags: Tensor,
                             gt_bboxes: Tensor, gt_bboxes_ignore: Tensor | None,
                             gt_labels: Tensor | None, stage: str = "init",
                             unmap_outputs: bool = True) -> tuple:
        """Targets of one image's candidates (points ``[N, 4]`` or boxes ``[N, 4]``):
        ``(labels, label_weights, bbox_gt, pos_proposals, proposal_weights, pos_inds,
        neg_inds)``."""
        inside = valid_flags
        if not inside.any():
            return (None,) * 7
        proposals = flat_proposals[inside, :]
        assigner = self.init_assigner if stage == "init" else self.refine_assigner
        pos_weight = self.train_cfg[stage]["pos_weight"]
        assign_result = assigner.assign(proposals, gt_bboxes, gt_bboxes_ignore,
                                        None if self.sampling else gt_labels)
        sampling_result = self.sampler.sample(assign_result, proposals, gt_bboxes)
        num_valid = proposals.shape[0]
        bbox_gt = proposals.new_zeros([num_valid, 4])
        pos_proposals = torch.zeros_like(proposals)
        proposal_weights = proposals.new_zeros([num_valid, 4])
        labels = proposals.new_full((num_valid,), self.num_classes, dtype=torch.long)
        label_weights = proposals.new_zeros(num_valid, dtype=torch.float)
        pos_inds, neg_inds = sampling_result.pos_inds, sampling_result.neg_inds
        if len(pos_inds) > 0:
            bbox_gt[pos_inds, :] = sampling_result.pos_gt_bboxes
            pos_proposals[pos_inds, :] = proposals[pos_inds, :]
            proposal_weights[pos_inds, :] = 1.0
            labels[pos_inds] = (0 if gt_labels is None
                                else gt_labels[sampling_result.pos_assigned_gt_inds])
            label_weights[pos_inds] = 1.0 if pos_weight <= 0 else pos_weight
        if len(neg_inds) > 0:
            label_weights[neg_inds] = 1.0
        if unmap_outputs:
            total = flat_proposals.size(0)
            labels = unmap(labels, total, inside)
            label_weights = unmap(label_weights, total, inside)
            bbox_gt = unmap(bbox_gt, total, inside)
            pos_proposals = unmap(pos_proposals, total, inside)
            proposal_weights = unmap(proposal_weights, total, inside)
        return labels, label_weights, bbox_gt, pos_proposals, proposal_weights, pos_inds, neg_inds

    def get_targets(self, proposals_list: list, valid_flag_list: list,  # type: ignore[override]
                    gt_bboxes_list: list, img_metas: list[dict],
                    gt_bboxes_ignore_list: list | None = None,
                    gt_labels_list: list | None = None, stage: str = "init",
                    label_channels: int = 1, unmap_outputs: bool = True) -> tuple | None:
        """Per level ``(labels, label_weights, bbox_gt, proposals, proposal_weights)`` and
        ``num_total_pos``, ``num_total_neg`` of one stage (``'init'`` or ``'refine'``)."""
        if stage not in ("init", "refine"):
            raise AssertionError(f"stage must be 'init' or 'refine', got {stage!r}")
        num_imgs = len(img_metas)
        num_level = [points.size(0) for points in proposals_list[0]]
        flat_proposals = [torch.cat(p) for p in proposals_list]
        flat_flags = [torch.cat(f) for f in valid_flag_list]
        if gt_bboxes_ignore_list is None:
            gt_bboxes_ignore_list = [None] * num_imgs
        if gt_labels_list is None:
            gt_labels_list = [None] * num_imgs
        (labels, label_weights, bbox_gt, proposals, proposal_weights, pos_inds,
         neg_inds) = multi_apply(self._point_target_single, flat_proposals, flat_flags,
                                 gt_bboxes_list, gt_bboxes_ignore_list, gt_labels_list,
                                 stage=stage, unmap_outputs=unmap_outputs)
        if any(lab is None for lab in labels):
            return None
        num_total_pos = sum(max(inds.numel(), 1) for inds in pos_inds)
        num_total_neg = sum(max(inds.numel(), 1) for inds in neg_inds)
        return (images_to_levels(labels, num_level), images_to_levels(label_weights, num_level),
                images_to_levels(bbox_gt, num_level), images_to_levels(proposals, num_level),
                images_to_levels(proposal_weights, num_level), num_total_pos, num_total_neg)

    def loss_single(self, cls_score: Tensor, pts_pred_init: Tensor, pts_pred_refine: Tensor,
                    labels: Tensor, label_weights: Tensor, bbox_gt_init: Tensor,
                    bbox_weights_init: Tensor, bbox_gt_refine: Tensor,
                    bbox_weights_refine: Tensor, stride: int, num_total_samples_init: int,
                    num_total_samples_refine: int) -> tuple[Tensor, Tensor, Tensor]:
        """Focal loss and the two box losses of one level."""
        cls_score = cls_score.permute(0, 2, 3, 1).reshape(-1, self.cls_out_channels).contiguous()
        loss_cls = self.loss_cls(cls_score, labels.reshape(-1), label_weights.reshape(-1),
                                 avg_factor=num_total_samples_refine)
        bbox_pred_init = self.points2bbox(pts_pred_init.reshape(-1, 2 * self.num_points),
                                          y_first=False)
        bbox_pred_refine = self.points2bbox(pts_pred_refine.reshape(-1, 2 * self.num_points),
                                            y_first=False)
        norm = self.point_base_scale * stride
        loss_pts_init = self.loss_bbox_init(bbox_pred_init / norm,
                                            bbox_gt_init.reshape(-1, 4) / norm,
                                            bbox_weights_init.reshape(-1, 4),
                                            avg_factor=num_total_samples_init)
        loss_pts_refine = self.loss_bbox_refine(bbox_pred_refine / norm,
                                                bbox_gt_refine.reshape(-1, 4) / norm,
                                                bbox_weights_refine.reshape(-1, 4),
                                                avg_factor=num_total_samples_refine)
        return loss_cls, loss_pts_init, loss_pts_refine

    def loss(self, cls_scores: list[Tensor], pts_preds_init: list[Tensor],
             pts_preds_refine: list[Tensor], gt_bboxes: list[Tensor], gt_labels: list[Tensor],
             img_metas: list[dict], gt_bboxes_ignore: list[Tensor] | None = None) -> dict:
        """``dict(loss_cls, loss_pts_init, loss_pts_refine)``, one entry per level each."""
        featmap_sizes = [f.size()[-2:] for f in cls_scores]
        device = cls_scores[0].device
        label_channels = self.cls_out_channels if self.use_sigmoid_cls else 1
        # initial stage: points (PointAssigner) or squares around them
        center_list, valid_flag_list = self.get_points(featmap_sizes, img_metas, device)
        pts_init = self.offset_to_pts(center_list, pts_preds_init)
        if self.train_cfg["init"]["assigner"]["type"] == "PointAssigner":
            candidate_list = center_list
        else:
            candidate_list = self.centers_to_bboxes(center_list)
        (*_, bbox_gt_init, _, bbox_weights_init, num_pos_init, num_neg_init) = self.get_targets(
            candidate_list, valid_flag_list, gt_bboxes, img_metas,
            gt_bboxes_ignore_list=gt_bboxes_ignore, gt_labels_list=gt_labels, stage="init",
            label_channels=label_channels)
        num_samples_init = num_pos_init + num_neg_init if self.sampling else num_pos_init
        # refinement stage: the initial boxes are the candidates
        center_list, valid_flag_list = self.get_points(featmap_sizes, img_metas, device)
        pts_refine = self.offset_to_pts(center_list, pts_preds_refine)
        bbox_list = []
        for img, center in enumerate(center_list):
            boxes = []
            for level in range(len(pts_preds_refine)):
                init_boxes = self.points2bbox(pts_preds_init[level].detach())
                shift = init_boxes * self.point_strides[level]
                boxes.append(torch.cat([center[level][:, :2]] * 2, dim=1)
                             + shift[img].permute(1, 2, 0).reshape(-1, 4))
            bbox_list.append(boxes)
        (labels, label_weights, bbox_gt_refine, _, bbox_weights_refine, num_pos_refine,
         num_neg_refine) = self.get_targets(
            bbox_list, valid_flag_list, gt_bboxes, img_metas,
            gt_bboxes_ignore_list=gt_bboxes_ignore, gt_labels_list=gt_labels, stage="refine",
            label_channels=label_channels)
        num_samples_refine = (num_pos_refine + num_neg_refine if self.sampling
                              else num_pos_refine)
        losses_cls, losses_init, losses_refine = multi_apply(
            self.loss_single, cls_scores, pts_init, pts_refine, labels, label_weights,
            bbox_gt_init, bbox_weights_init, bbox_gt_refine, bbox_weights_refine,
            self.point_strides, num_total_samples_init=num_samples_init,
            num_total_samples_refine=num_samples_refine)
        return dict(loss_cls=losses_cls, loss_pts_init=losses_init,
                    loss_pts_refine=losses_refine)

    def _decode_level(self, priors: Tensor, bbox_pred: Tensor, level: int,
                      max_shape: Sequence[int]) -> Tensor:
        """Boxes ``Tensor[n, 4]``: ``bbox_pred`` (stride units) times the level's stride
        around the points ``priors`` (``[n, 2]``), clamped to ``max_shape``."""
        return self._bbox_decode(priors, bbox_pred, self.point_strides[level], max_shape)

    def _bbox_decode(self, points: Tensor, bbox_pred: Tensor, stride: int,
                     max_shape: Sequence[int]) -> Tensor:
        bboxes = bbox_pred * stride + torch.cat([points[:, :2], points[:, :2]], dim=1)
        x1 = bboxes[:, 0].clamp(min=0, max=max_shape[1])
        y1 = bboxes[:, 1].clamp(min=0, max=max_shape[0])
        x2 = bboxes[:, 2].clamp(min=0, max=max_shape[1])
        y2 = bboxes[:, 3].clamp(min=0, max=max_shape[0])
        return torch.stack([x1, y1, x2, y2], dim=-1)
