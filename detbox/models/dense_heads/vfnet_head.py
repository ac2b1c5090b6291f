"""``VFNetHead``: VarifocalNet (Zhang et al., 2021), MMDetection v2's names and defaults.

FCOS-style towers (``cls_convs``, ``reg_convs``); from the regression tower ``vfnet_reg_conv``
and ``vfnet_reg`` give initial distances (``exp`` times ``reg_denom`` or the stride). The
initial box sets the nine sampling points of a star-shaped 3x3 deformable conv (its corners,
side midpoints and center: :func:`star_dcn_offset`), used by both branches:
``vfnet_reg_refine_dconv`` -> ``vfnet_reg_refine`` gives factors that refine the (detached)
initial distances, ``vfnet_cls_dconv`` -> ``vfnet_cls`` the IoU-aware class score.

Training targets come from ATSS on anchors (``use_atss``, default; ``ATSSHead``'s targets,
anchors of ``center_offset`` 0) or from FCOS's rules (``FCOSHead``'s targets). Initial and
refined boxes are trained by GIoU weighted by their IoU with the target; the classifier by
:class:`VarifocalLoss` against the refined boxes' IoU at the positive's class (or a focal loss
with ``use_vfl=False``). At test time the refined boxes are decoded from the points with
``sigmoid(vfnet_cls)`` as the score (``BaseDenseHead``'s decoding).
"""

from __future__ import annotations

from typing import Any, Sequence

import torch
from torch import Tensor, nn

from ...ops import bbox_overlaps
from ...registry import MODELS, TASK_UTILS
from ..layers import ConvModule, DeformConv2d, Scale
from ..task_modules import MlvlPointGenerator
from ..utils import force_fp32, multi_apply
from .anchor_free_head import AnchorFreeHead
from .atss_head import ATSSHead
from .fcos_head import FCOSHead
from .head_utils import mean_count, reduce_mean

__all__ = ["VFNetHead", "star_dcn_offset"]

INF = 1e8

def star_dcn_offset(bbox_pred: Tensor, gradient_mul: float, stride: float) -> Tensor:
    """Offsets ``Tensor[B, 18, H, W]`` of a 3x3 deformable conv sampling the star of a box.

    The nine samples sit at the box's corners, side midpoints (on the point's row/column) and
    the point itself, in units of ``stride``, relative to the regular 3x3 grid. Only a
    ``gradient_mul`` share of the gradient flows back into ``bbox_pred``.

    Args:
        bbox_pred: ``Tensor[B, 4, H, W]`` distances ``(left, top, right, bottom)`` in pixels.
        gradient_mul: share of the gradient passed to ``bbox_pred``.
        stride: the level's stride.
    """
    scaled = ((1 - gradient_mul) * bbox_pred.detach() + gradient_mul * bbox_pred) / stride
    left, top, right, bottom = scaled.unbind(1)
    offset = bbox_pred.new_zeros(bbox_pred.size(0), 18, *bbox_pred.shape[-2:])
    # rows: -top for the upper three samples, +bottom for the lower three
    for k in (0, 1, 2):
        offset[:, 2 * k] = -top
    for k in (6, 7, 8):
        offset[:, 2 * k] = bottom
    # columns: -left for the left three samples, +right for the right three
    for k in (0, 3, 6):
        offset[:, 2 * k + 1] = -left
    for k in (2, 5, 8):
        offset[:, 2 * k + 1] = right
    base = torch.arange(-1, 2, dtype=bbox_pred.dtype, device=bbox_pred.device)
    grid = torch.stack([base.repeat_interleave(3), base.repeat(3)], dim=1).reshape(1, -1, 1, 1)
    return offset - grid


@MODELS.register_module()
class VFNetHead(ATSSHead, FCOSHead):
    """VarifocalNet head.

    Args:
        num_classes: number of object classes (background excluded).
        in_channels: channels of the input feature maps.
        regress_ranges: FCOS's size range per level (targets without ATSS); the upper bounds
            are also the ``reg_denom`` of each level (the last one twice the one before).
        center_sampling: FCOS's center sampling (without ATSS).
        center_sample_radius: its radius in strides.
        sync_num_pos: average the number of positives over processes.
        gradient_mul: share of the star offsets' gradient that reaches the initial boxes.
        bbox_norm_type: ``'reg_denom'`` or ``'stride'``: the unit of the initial distances.
        loss_cls_fl: classification loss without VFL.
        use_vfl: train the classifier with ``loss_cls`` (VFL) against IoU targets.
        loss_cls: the varifocal loss config.
        loss_bbox: GIoU of the initial boxes.
        loss_bbox_refine: GIoU of the refined boxes.
        norm_cfg: norm of the towers and ``vfnet_reg_conv``.
        use_atss: ATSS targets on anchors (else FCOS's).
        reg_decoded_bbox: box targets are boxes (ATSS's targets).
        anchor_generator: the anchors of ATSS (``center_offset`` also places the points).
        init_cfg: initialisation (normal std 0.01; ``vfnet_cls`` bias for prior 0.01).
        feat_channels, stacked_convs, strides, dcn_on_last_conv, conv_bias, bbox_coder,
            conv_cfg, train_cfg, test_cfg: ``AnchorFreeHead``'s arguments (its default
            ``strides`` too, so configs set them: ``[8, 16, 32, 64, 128]``).
    """

    def __init__(self, num_classes: int, in_channels: int,
                 regress_ranges: Sequence[tuple[float, float]] = (
                     (-1, 64), (64, 128), (128, 256), (256, 512), (512, INF)),
                 center_sampling: bool = False, center_sample_radius: float = 1.5,
                 sync_num_pos: bool = True, gradient_mul: float = 0.1,
                 bbox_norm_type: str = "reg_denom", loss_cls_fl: dict | None = None,
                 use_vfl: bool = True, loss_cls: dict | None = None,
                 loss_bbox: dict | None = None, loss_bbox_refine: dict | None = None,
                 norm_cfg: dict | None = dict(  # noqa: B006 (never mutated)
                     type="GN", num_groups=32, requires_grad=True),
                 use_atss: bool = True, reg_decoded_bbox: bool = True,
                 anchor_generator: dict | None = None, init_cfg: dict | list | None = None,
                 feat_channels: int = 256, stacked_convs: int = 4,
                 strides: Sequence[Any] = (4, 8, 16, 32, 64), dcn_on_last_conv: bool = False,
                 conv_bias: bool | str = "auto", bbox_coder: dict | None = None,
                 conv_cfg: dict | None = None, train_cfg: Any = None,
                 test_cfg: Any = None) -> None:
        if bbox_norm_type not in ("reg_denom", "stride"):
            raise NotImplementedError(f"VFNetHead: bbox_norm_type {bbox_norm_type!r} (use "
                                      "'reg_denom' or 'stride')")
        loss_cls_fl = loss_cls_fl or dict(type="FocalLoss", use_sigmoid=True, gamma=2.0,
                                          alpha=0.25, loss_weight=1.0)
        loss_cls = loss_cls or dict(type="VarifocalLoss", use_sigmoid=True, alpha=0.75,
                                    gamma=2.0, iou_weighted=True, loss_weight=1.0)
        loss_bbox = loss_bbox or dict(type="GIoULoss", loss_weight=1.5)
        loss_bbox_refine = loss_bbox_refine or dict(type="GIoULoss", loss_weight=2.0)
        anchor_generator = anchor_generator or dict(
            type="AnchorGenerator", ratios=[1.0], octave_base_scale=8, scales_per_octave=1,
            center_offset=0.0, strides=[8, 16, 32, 64, 128])
        if init_cfg is None:
            init_cfg = dict(type="Normal", layer="Conv2d", std=0.01,
                            override=dict(type="Normal", name="vfnet_cls", std=0.01,
                                          bias_prob=0.01))
        self.num_dconv_points = 9
        self.dcn_kernel = 3
        self.dcn_pad = 1
        # initialised as an AnchorFreeHead (towers, strides, coder), as MMDetection does
        AnchorFreeHead.__init__(
            self, num_classes, in_channels, feat_channels=feat_channels,
            stacked_convs=stacked_convs, strides=strides, dcn_on_last_conv=dcn_on_last_conv,
            conv_bias=conv_bias, bbox_coder=bbox_coder, conv_cfg=conv_cfg, norm_cfg=norm_cfg,
            train_cfg=train_cfg, test_cfg=test_cfg, init_cfg=init_cfg)
        self.regress_ranges = regress_ranges
        self.reg_denoms = [regress_range[-1] for regress_range in regress_ranges]
        self.reg_denoms[-1] = self.reg_denoms[-2] * 2
        self.center_sampling = center_sampling
        self.center_sample_radius = center_sample_radius
        self.norm_on_bbox = False
        self.sync_num_pos = sync_num_pos
        self.bbox_norm_type = bbox_norm_type
        self.gradient_mul = gradient_mul
        self.use_vfl = use_vfl
        self.loss_cls = MODELS.build(loss_cls if use_vfl else loss_cls_fl)
        self.loss_bbox = MODELS.build(loss_bbox)
        self.loss_bbox_refine = MODELS.build(loss_bbox_refine)
        self.use_atss = use_atss
        self.reg_decoded_bbox = reg_decoded_bbox
        self.use_sigmoid_cls = loss_cls.get("use_sigmoid", False)
        self.anchor_center_offset = anchor_generator["center_offset"]
        self.sampling = False
        if self.train_cfg:
            self.assigner = TASK_UTILS.build(self.train_cfg["assigner"])
            self.sampler = TASK_UTILS.build(dict(type="PseudoSampler"))
        self.atss_prior_generator = TASK_UTILS.build(anchor_generator)
        self.fcos_prior_generator = MlvlPointGenerator(
            anchor_generator["strides"], self.anchor_center_offset if use_atss else 0.5)
        self.prior_generator = self.fcos_prior_generator
        self.num_base_priors = self.prior_generator.num_base_priors[0]

    def _init_layers(self) -> None:
        AnchorFreeHead._init_cls_convs(self)
        AnchorFreeHead._init_reg_convs(self)
        self.relu = nn.ReLU(inplace=True)
        self.vfnet_reg_conv = ConvModule(self.feat_channels, self.feat_channels, 3, stride=1,
                                         padding=1, conv_cfg=self.conv_cfg,
                                         norm_cfg=self.norm_cfg, bias=self.conv_bias)
        self.vfnet_reg = nn.Conv2d(self.feat_channels, 4, 3, padding=1)
        self.scales = nn.ModuleList([Scale(1.0) for _ in self.strides])
        self.vfnet_reg_refine_dconv = DeformConv2d(self.feat_channels, self.feat_channels,
                                                   self.dcn_kernel, 1, padding=self.dcn_pad)
        self.vfnet_reg_refine = nn.Conv2d(self.feat_channels, 4, 3, padding=1)
        self.scales_refine = nn.ModuleList([Scale(1.0) for _ in self.strides])
        self.vfnet_cls_dconv = DeformConv2d(self.feat_channels, self.feat_channels,
                                            self.dcn_kernel, 1, padding=self.dcn_pad)
        self.vfnet_cls = nn.Conv2d(self.feat_channels, self.cls_out_channels, 3, padding=1)

    def _load_from_state_dict(self, *args: Any, **kwargs: Any) -> None:
        """Plain loading: none of ``AnchorFreeHead``'s renaming of pre-v2.0 predictor keys
        (which would take ``vfnet_cls`` for an old ``conv_cls``)."""
        nn.Module._load_from_state_dict(self, *args, **kwargs)

    def forward(self, feats: tuple[Tensor, ...]) -> tuple[list[Tensor], ...]:
        """Per level: ``cls_score [B, C, H, W]``, in training also the initial distances
        ``[B, 4, H, W]``, and the refined distances ``[B, 4, H, W]`` (pixels)."""
        return multi_apply(self.forward_single, feats, self.scales, self.scales_refine,
                           self.strides, self.reg_denoms)

    def forward_single(self, x: Tensor, scale: nn.Module, scale_refine: nn.Module,
                       stride: int, reg_denom: float) -> tuple[Tensor, ...]:
        cls_feat = x
        for layer in self.cls_convs:
            cls_feat = layer(cls_feat)
        reg_feat = x
        for layer in self.reg_convs:
            reg_feat = layer(reg_feat)
        reg_feat_init = self.vfnet_reg_conv(reg_feat)
        unit = reg_denom if self.bbox_norm_type == "reg_denom" else stride
        bbox_pred = scale(self.vfnet_reg(reg_feat_init)).float().exp() * unit
        dcn_offset = star_dcn_offset(bbox_pred, self.gradient_mul, stride).to(reg_feat.dtype)
        reg_feat = self.relu(self.vfnet_reg_refine_dconv(reg_feat, dcn_offset))
        bbox_pred_refine = scale_refine(self.vfnet_reg_refine(reg_feat)).float().exp()
        bbox_pred_refine = bbox_pred_refine * bbox_pred.detach()
        cls_score = self.vfnet_cls(self.relu(self.vfnet_cls_dconv(cls_feat, dcn_offset)))
        if self.training:
            return cls_score, bbox_pred, bbox_pred_refine
        return cls_score, bbox_pred_refine

    def star_dcn_offset(self, bbox_pred: Tensor, gradient_mul: float, stride: float) -> Tensor:
        """See :func:`star_dcn_offset`."""
        return star_dcn_offset(bbox_pred, gradient_mul, stride)

    @force_fp32
    def loss(self, cls_scores: list[Tensor], bbox_preds: list[Tensor],
             bbox_preds_refine: list[Tensor], gt_bboxes: list[Tensor], gt_labels: list[Tensor],
             img_metas: list[dict], gt_bboxes_ignore: list[Tensor] | None = None) -> dict:
        """``dict(loss_cls, loss_bbox, loss_bbox_rf)`` over all levels."""
        if not len(cls_scores) == len(bbox_preds) == len(bbox_preds_refine):
            raise AssertionError("VFNetHead.loss: one tensor per level for each output")
        featmap_sizes = [f.size()[-2:] for f in cls_scores]
        points = self.fcos_prior_generator.grid_priors(featmap_sizes, bbox_preds[0].dtype,
                                                       bbox_preds[0].device)
        labels, label_weights, bbox_targets, _ = self.get_targets(
            cls_scores, points, gt_bboxes, gt_labels, img_metas, gt_bboxes_ignore)
        num_imgs = cls_scores[0].size(0)
        flat_cls_scores = torch.cat([s.permute(0, 2, 3, 1).reshape(-1, self.cls_out_channels)
                                     for s in cls_scores])
        flat_bbox_preds = torch.cat([p.permute(0, 2, 3, 1).reshape(-1, 4) for p in bbox_preds])
        flat_refine = torch.cat([p.permute(0, 2, 3, 1).reshape(-1, 4)
                                 for p in bbox_preds_refine])
        flat_labels = torch.cat(labels)
        flat_bbox_targets = torch.cat(bbox_targets)
        flat_points = torch.cat([p.repeat(num_imgs, 1) for p in points])
        pos_inds = torch.where((flat_labels >= 0) & (flat_labels < self.num_classes))[0]
        num_pos = len(pos_inds)
        if self.sync_num_pos:
            num_pos_avg = mean_count(num_pos, pos_inds.device)
        else:
            num_pos_avg = num_pos
        pos_points = flat_points[pos_inds]
        pos_labels = flat_labels[pos_inds]
        pos_decoded = self.bbox_coder.decode(pos_points, flat_bbox_preds[pos_inds])
        pos_decoded_refine = self.bbox_coder.decode(pos_points, flat_refine[pos_inds])
        pos_decoded_targets = self.bbox_coder.decode(pos_points,
                                                     flat_bbox_targets[pos_inds]).detach()
        iou_ini = bbox_overlaps(pos_decoded, pos_decoded_targets,
                                is_aligned=True).clamp(min=1e-6).detach()
        iou_rf = bbox_overlaps(pos_decoded_refine, pos_decoded_targets,
                               is_aligned=True).clamp(min=1e-6).detach()
        avg_ini = reduce_mean(iou_ini.sum()).clamp_(min=1).item()
        avg_rf = reduce_mean(iou_rf.sum()).clamp_(min=1).item()
        cls_iou_targets = torch.zeros_like(flat_cls_scores)
        if num_pos > 0:
            loss_bbox = self.loss_bbox(pos_decoded, pos_decoded_targets, weight=iou_ini,
                                       avg_factor=avg_ini)
            loss_bbox_refine = self.loss_bbox_refine(pos_decoded_refine, pos_decoded_targets,
                                                     weight=iou_rf, avg_factor=avg_rf)
            cls_iou_targets[pos_inds, pos_labels] = iou_rf
        else:
            loss_bbox = flat_bbox_preds[pos_inds].sum() * 0
            loss_bbox_refine = flat_refine[pos_inds].sum() * 0
        if self.use_vfl:
            loss_cls = self.loss_cls(flat_cls_scores, cls_iou_targets, avg_factor=num_pos_avg)
        else:
            loss_cls = self.loss_cls(flat_cls_scores, flat_labels, weight=label_weights,
                                     avg_factor=num_pos_avg)
        return dict(loss_cls=loss_cls, loss_bbox=loss_bbox, loss_bbox_rf=loss_bbox_refine)

    def get_targets(self, cls_scores: list[Tensor], mlvl_points: list[Tensor],
                    gt_bboxes: list[Tensor], gt_labels: list[Tensor], img_metas: list[dict],
                    gt_bboxes_ignore: list[Tensor] | None = None) -> tuple:
        """``(labels per level [B * P_l], label_weights, distance targets per level
        [B * P_l, 4], bbox_weights)``; the weights are ``None`` with FCOS's targets."""
        if self.use_atss:
            return self.get_atss_targets(cls_scores, mlvl_points, gt_bboxes, gt_labels,
                                         img_metas, gt_bboxes_ignore)
        labels, bbox_targets = FCOSHead.get_targets(self, mlvl_points, gt_bboxes, gt_labels)
        return labels, None, bbox_targets, None

    def _get_target_single(self, *args: Any, **kwargs: Any) -> tuple:
        """``ATSSHead``'s per-image targets with ``use_atss``, else ``FCOSHead``'s."""
        if self.use_atss:
            return ATSSHead._get_target_single(self, *args, **kwargs)
        return FCOSHead._get_target_single(self, *args, **kwargs)

    def get_anchors(self, featmap_sizes: list, img_metas: list[dict], device: Any = "cpu"
                    ) -> tuple[list[list[Tensor]], list[list[Tensor]]]:
        """ATSS's anchors and valid flags per image per level."""
        anchors = self.atss_prior_generator.grid_priors(featmap_sizes, device=device)
        valid_flags = [self.atss_prior_generator.valid_flags(featmap_sizes, m["pad_shape"],
                                                             device=device)
                       for m in img_metas]
        return [anchors for _ in img_metas], valid_flags

    def get_atss_targets(self, cls_scores: list[Tensor], mlvl_points: list[Tensor],
                         gt_bboxes: list[Tensor], gt_labels: list[Tensor],
                         img_metas: list[dict], gt_bboxes_ignore: list[Tensor] | None = None
                         ) -> tuple | None:
        """ATSS's targets of the anchors, as distances from the points (see get_targets)."""
        featmap_sizes = [f.size()[-2:] for f in cls_scores]
        if not (len(featmap_sizes) == self.atss_prior_generator.num_levels
                == self.fcos_prior_generator.num_levels):
            raise AssertionError("VFNetHead: feature levels, anchor levels and point levels "
                                 "differ in number")
        anchor_list, valid_flag_list = self.get_anchors(featmap_sizes, img_metas,
                                                        device=cls_scores[0].device)
        label_channels = self.cls_out_channels if self.use_sigmoid_cls else 1
        targets = ATSSHead.get_targets(self, anchor_list, valid_flag_list, gt_bboxes, img_metas,
                                       gt_bboxes_ignore_list=gt_bboxes_ignore,
                                       gt_labels_list=gt_labels, label_channels=label_channels,
                                       unmap_outputs=True)
        if targets is None:
            return None
        _, labels, label_weights, bbox_targets, bbox_weights = targets[:5]
        bbox_targets = self.transform_bbox_targets([t.reshape(-1, 4) for t in bbox_targets],
                                                   mlvl_points, len(img_metas))
        return ([lab.reshape(-1) for lab in labels],
                torch.cat([w.reshape(-1) for w in label_weights]), bbox_targets,
                torch.cat([w.reshape(-1) for w in bbox_weights]))

    def transform_bbox_targets(self, decoded_bboxes: list[Tensor], mlvl_points: list[Tensor],
                               num_imgs: int) -> list[Tensor]:
        """Per level, xyxy targets ``[B * P_l, 4]`` as distances from the points."""
        if len(decoded_bboxes) != len(mlvl_points):
            raise AssertionError("VFNetHead: one target tensor per level of points")
        return [self.bbox_coder.encode(points.repeat(num_imgs, 1), boxes)
                for boxes, points in zip(decoded_bboxes, mlvl_points)]
