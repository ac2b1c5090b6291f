"""``YOLOXHead``: YOLOX's decoupled anchor-free head (MMDetection v2's names and defaults).

Per level ``i``: ``multi_level_cls_convs.i`` and ``multi_level_reg_convs.i`` (stacked 3x3
ConvModules, BN + Swish) feed 1x1 predictors ``multi_level_conv_cls.i`` (C logits),
``multi_level_conv_reg.i`` (``dx, dy, log w, log h`` in strides) and
``multi_level_conv_obj.i`` (objectness logit, on the regression tower).

Boxes decode from grid points without offset: ``center = (dx, dy) * stride + point``,
``size = exp(log wh) * stride``. At test time a location keeps its best class when
``sigmoid(cls) * sigmoid(obj) >= score_thr``, then class-wise NMS (no ``max_per_img``, no
clipping). Training assigns with :class:`SimOTAAssigner` on points shifted by half a stride,
with IoU-aware class targets; losses are summed and divided by the number of positives
(``loss_l1`` on the raw regression only once ``use_l1`` is set by ``YOLOXModeSwitchHook``).

>>> head = YOLOXHead(num_classes=2, in_channels=8, feat_channels=8, strides=[8])
>>> cls, reg, obj = head([torch.zeros(1, 8, 4, 4)])
>>> tuple(cls[0].shape), tuple(reg[0].shape), tuple(obj[0].shape)
((1, 2, 4, 4), (1, 4, 4, 4), (1, 1, 4, 4))
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...ops import batched_nms, bbox_xyxy_to_cxcywh
from ...registry import MODELS, TASK_UTILS
from ..layers import ConvModule, DepthwiseSeparableConvModule
from ..layers.csp_layer import YOLO_ACT, YOLO_NORM
from ..task_modules.prior_generators import MlvlPointGenerator
from ..utils import force_fp32, multi_apply
from ..weight_init import bias_init_with_prob
from .base_dense_head import BaseDenseHead
from .head_utils import reduce_mean

__all__ = ["YOLOXHead", "yolox_decode"]

_KAIMING_UNIFORM = dict(type="Kaiming", layer="Conv2d", a=math.sqrt(5), distribution="uniform",
                        mode="fan_in", nonlinearity="leaky_relu")


def yolox_decode(priors: Tensor, bbox_preds: Tensor) -> Tensor:
    """Boxes from YOLOX regressions.

    Args:
        priors: ``Tensor[P, 4]`` as ``x, y, stride_w, stride_h`` (grid points, no offset).
        bbox_preds: ``Tensor[..., P, 4]`` as ``dx, dy, log w, log h`` in strides.

    Returns:
        ``Tensor[..., P, 4]`` xyxy.
    """
    xys = bbox_preds[..., :2] * priors[:, 2:] + priors[:, :2]
    whs = bbox_preds[..., 2:].exp() * priors[:, 2:]
    return torch.stack([xys[..., 0] - whs[..., 0] / 2, xys[..., 1] - whs[..., 1] / 2,
                        xys[..., 0] + whs[..., 0] / 2, xys[..., 1] + whs[..., 1] / 2], -1)


@MODELS.register_module()
class YOLOXHead(BaseDenseHead):
    """YOLOX head.

    Args:
        num_classes: number of object classes.
        in_channels: channels of the input feature maps.
        feat_channels: channels of the towers.
        stacked_convs: 3x3 convs per tower.
        strides: stride of each level.
        use_depthwise: depthwise separable tower convs.
        dcn_on_last_conv: a ``DCNv2`` as the last tower conv.
        conv_bias: tower conv bias (``'auto'``: only without norm).
        conv_cfg: tower conv config.
        norm_cfg: tower norm config.
        act_cfg: tower activation config.
        loss_cls: class loss (sigmoid cross-entropy, sum).
        loss_bbox: box loss (IoU, square mode, sum, weight 5).
        loss_obj: objectness loss (sigmoid cross-entropy, sum).
        loss_l1: regression L1 loss of the last epochs (sum).
        train_cfg: ``assigner`` (SimOTA).
        test_cfg: ``score_thr``, ``nms``.
        init_cfg: initialisation (Kaiming uniform on convs; class / objectness biases at the
            prior 0.01 after it).
    """

    def __init__(self, num_classes: int, in_channels: int, feat_channels: int = 256,
                 stacked_convs: int = 2, strides: Sequence[int] = (8, 16, 32),
                 use_depthwise: bool = False, dcn_on_last_conv: bool = False,
                 conv_bias: bool | str = "auto", conv_cfg: dict | None = None,
                 norm_cfg: dict | None = YOLO_NORM, act_cfg: dict | None = YOLO_ACT,
                 loss_cls: dict | None = None, loss_bbox: dict | None = None,
                 loss_obj: dict | None = None, loss_l1: dict | None = None,
                 train_cfg: dict | None = None, test_cfg: dict | None = None,
                 init_cfg: dict | list | None = _KAIMING_UNIFORM) -> None:
        super().__init__(init_cfg)
        if not (conv_bias == "auto" or isinstance(conv_bias, bool)):
            raise ValueError(f"YOLOXHead: conv_bias must be 'auto' or a bool, got {conv_bias!r}")
        self.num_classes = num_classes
        self.cls_out_channels = num_classes
        self.in_channels = in_channels
        self.feat_channels = feat_channels
        self.stacked_convs = stacked_convs
        self.strides = list(strides)
        self.use_depthwise = use_depthwise
        self.dcn_on_last_conv = dcn_on_last_conv
        self.conv_bias = conv_bias
        self.use_sigmoid_cls = True
        self.conv_cfg, self.norm_cfg, self.act_cfg = conv_cfg, norm_cfg, act_cfg
        sigmoid_ce = dict(type="CrossEntropyLoss", use_sigmoid=True, reduction="sum",
                          loss_weight=1.0)
        self.loss_cls = MODELS.build(loss_cls or sigmoid_ce)
        self.loss_bbox = MODELS.build(loss_bbox or dict(
            type="IoULoss", mode="square", eps=1e-16, reduction="sum", loss_weight=5.0))
        self.loss_obj = MODELS.build(loss_obj or sigmoid_ce)
        self.use_l1 = False  # set by YOLOXModeSwitchHook
        self.loss_l1 = MODELS.build(loss_l1 or dict(type="L1Loss", reduction="sum",
                                                    loss_weight=1.0))
        self.prior_generator = MlvlPointGenerator(self.strides, offset=0)
        self.train_cfg, self.test_cfg = train_cfg, test_cfg
        self.sampling = False
        if self.train_cfg:
            self.assigner = TASK_UTILS.build(self.train_cfg["assigner"])
            self.sampler = TASK_UTILS.build(dict(type="PseudoSampler"))
        self._init_layers()

    def _init_layers(self) -> None:
        self.multi_level_cls_convs = nn.ModuleList()
        self.multi_level_reg_convs = nn.ModuleList()
        self.multi_level_conv_cls = nn.ModuleList()
        self.multi_level_conv_reg = nn.ModuleList()
        self.multi_level_conv_obj = nn.ModuleList()
        for _ in self.strides:
            self.multi_level_cls_convs.append(self._build_stacked_convs())
            self.multi_level_reg_convs.append(self._build_stacked_convs())
            self.multi_level_conv_cls.append(nn.Conv2d(self.feat_channels,
                                                       self.cls_out_channels, 1))
            self.multi_level_conv_reg.append(nn.Conv2d(self.feat_channels, 4, 1))
            self.multi_level_conv_obj.append(nn.Conv2d(self.feat_channels, 1, 1))

    def _build_stacked_convs(self) -> nn.Sequential:
        conv = DepthwiseSeparableConvModule if self.use_depthwise else ConvModule
        layers = []
        for i in range(self.stacked_convs):
            last = i == self.stacked_convs - 1
            conv_cfg = dict(type="DCNv2") if self.dcn_on_last_conv and last else self.conv_cfg
            layers.append(conv(self.in_channels if i == 0 else self.feat_channels,
                               self.feat_channels, 3, stride=1, padding=1, conv_cfg=conv_cfg,
                               norm_cfg=self.norm_cfg, act_cfg=self.act_cfg,
                               bias=self.conv_bias))
        return nn.Sequential(*layers)

    def init_weights(self) -> None:
        """``init_cfg``, then the class and objectness biases at prior probability 0.01."""
        super().init_weights()
        bias = bias_init_with_prob(0.01)
        for conv_cls, conv_obj in zip(self.multi_level_conv_cls, self.multi_level_conv_obj):
            conv_cls.bias.data.fill_(bias)
            conv_obj.bias.data.fill_(bias)

    def forward_single(self, x: Tensor, cls_convs: nn.Module, reg_convs: nn.Module,
                       conv_cls: nn.Module, conv_reg: nn.Module, conv_obj: nn.Module
                       ) -> tuple[Tensor, Tensor, Tensor]:
        """One level: ``(cls [N, C, H, W], reg [N, 4, H, W], obj [N, 1, H, W])``."""
        cls_feat, reg_feat = cls_convs(x), reg_convs(x)
        return conv_cls(cls_feat), conv_reg(reg_feat), conv_obj(reg_feat)

    def forward(self, feats: Sequence[Tensor]) -> tuple[list[Tensor], ...]:
        """Per-level ``(cls_scores, bbox_preds, objectnesses)``."""
        return multi_apply(self.forward_single, feats, self.multi_level_cls_convs,
                           self.multi_level_reg_convs, self.multi_level_conv_cls,
                           self.multi_level_conv_reg, self.multi_level_conv_obj)

    def _flatten(self, cls_scores: list[Tensor], bbox_preds: list[Tensor],
                 objectnesses: list[Tensor]) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """``(cls [B, P, C], reg [B, P, 4], obj [B, P], priors [P, 4])`` over all levels."""
        num_imgs = cls_scores[0].shape[0]
        priors = self.prior_generator.grid_priors(
            [c.shape[2:] for c in cls_scores], dtype=cls_scores[0].dtype,
            device=cls_scores[0].device, with_stride=True)
        cls = torch.cat([c.permute(0, 2, 3, 1).reshape(num_imgs, -1, self.cls_out_channels)
                         for c in cls_scores], 1)
        reg = torch.cat([b.permute(0, 2, 3, 1).reshape(num_imgs, -1, 4) for b in bbox_preds], 1)
        obj = torch.cat([o.permute(0, 2, 3, 1).reshape(num_imgs, -1) for o in objectnesses], 1)
        return cls, reg, obj, torch.cat(priors)

    @force_fp32
    def get_bboxes(self, cls_scores: list[Tensor], bbox_preds: list[Tensor],
                   objectnesses: list[Tensor], img_metas: list[dict] | None = None,
                   cfg: Any = None, rescale: bool = False, with_nms: bool = True) -> list:
        """Per image ``(dets: Tensor[n, 5], labels: Tensor[n])``."""
        if not len(cls_scores) == len(bbox_preds) == len(objectnesses):
            raise ValueError("YOLOXHead.get_bboxes: one tensor per level for each output")
        cfg = self.test_cfg if cfg is None else cfg
        cls, reg, obj, priors = self._flatten(cls_scores, bbox_preds, objectnesses)
        cls, obj = cls.sigmoid(), obj.sigmoid()
        bboxes = yolox_decode(priors, reg)
        if rescale:
            scale_factors = np.array([meta["scale_factor"] for meta in img_metas])
            bboxes[..., :4] /= bboxes.new_tensor(scale_factors).unsqueeze(1)
        return [self._bboxes_nms(cls[i], bboxes[i], obj[i], cfg, with_nms)
                for i in range(len(img_metas))]

    def _bboxes_nms(self, cls_scores: Tensor, bboxes: Tensor, score_factor: Tensor, cfg: Any,
                    with_nms: bool = True) -> tuple[Tensor, ...]:
        """Best class per location, ``score * objectness >= score_thr``, class-wise NMS."""
        max_scores, labels = torch.max(cls_scores, 1)
        keep = score_factor * max_scores >= cfg["score_thr"]
        bboxes, labels = bboxes[keep], labels[keep]
        scores = max_scores[keep] * score_factor[keep]
        if not with_nms:
            return bboxes, scores, labels
        if labels.numel() == 0:
            return torch.cat([bboxes, scores[:, None]], -1), labels
        dets, kept = batched_nms(bboxes, scores, labels, cfg["nms"])
        return dets, labels[kept]

    @force_fp32
    def loss(self, cls_scores: list[Tensor], bbox_preds: list[Tensor],
             objectnesses: list[Tensor], gt_bboxes: list[Tensor], gt_labels: list[Tensor],
             img_metas: list[dict], gt_bboxes_ignore: list[Tensor] | None = None) -> dict:
        """``loss_cls``, ``loss_bbox``, ``loss_obj`` (and ``loss_l1`` with ``use_l1``)."""
        num_imgs = len(img_metas)
        cls, reg, obj, priors = self._flatten(cls_scores, bbox_preds, objectnesses)
        bboxes = yolox_decode(priors, reg)
        (pos_masks, cls_targets, obj_targets, bbox_targets, l1_targets,
         num_fg) = multi_apply(self._get_target_single, cls.detach(), obj.detach(),
                               priors.unsqueeze(0).repeat(num_imgs, 1, 1), bboxes.detach(),
                               gt_bboxes, gt_labels)
        num_pos = torch.tensor(sum(num_fg), dtype=torch.float, device=cls.device)
        num_total = max(reduce_mean(num_pos), 1.0)
        pos_masks = torch.cat(pos_masks, 0)
        losses = dict(
            loss_cls=self.loss_cls(cls.view(-1, self.num_classes)[pos_masks],
                                   torch.cat(cls_targets, 0)) / num_total,
            loss_bbox=self.loss_bbox(bboxes.view(-1, 4)[pos_masks],
                                     torch.cat(bbox_targets, 0)) / num_total,
            loss_obj=self.loss_obj(obj.view(-1, 1), torch.cat(obj_targets, 0)) / num_total)
        if self.use_l1:
            losses["loss_l1"] = self.loss_l1(reg.view(-1, 4)[pos_masks],
                                             torch.cat(l1_targets, 0)) / num_total
        return losses

    @torch.no_grad()
    def _get_target_single(self, cls_preds: Tensor, objectness: Tensor, priors: Tensor,
                           decoded_bboxes: Tensor, gt_bboxes: Tensor, gt_labels: Tensor
                           ) -> tuple:
        """Targets of one image.

        Args:
            cls_preds: ``Tensor[P, C]`` logits.
            objectness: ``Tensor[P]`` logits.
            priors: ``Tensor[P, 4]`` ``x, y, stride_w, stride_h``.
            decoded_bboxes: ``Tensor[P, 4]`` xyxy.
            gt_bboxes: ``Tensor[G, 4]`` xyxy.
            gt_labels: ``Tensor[G]``.

        Returns:
            ``(foreground mask [P], cls targets [F, C] (one-hot times IoU), obj targets
            [P, 1], bbox targets [F, 4], l1 targets [F, 4], F)``.
        """
        num_priors = priors.size(0)
        gt_bboxes = gt_bboxes.to(decoded_bboxes.dtype)
        if gt_labels.size(0) == 0:
            return (cls_preds.new_zeros(num_priors).bool(),
                    cls_preds.new_zeros((0, self.num_classes)),
                    cls_preds.new_zeros((num_priors, 1)),
                    cls_preds.new_zeros((0, 4)), cls_preds.new_zeros((0, 4)), 0)
        # assign on points shifted by half a stride, regress from the unshifted ones
        offset_priors = torch.cat([priors[:, :2] + priors[:, 2:] * 0.5, priors[:, 2:]], -1)
        assign_result = self.assigner.assign(cls_preds.sigmoid() * objectness.unsqueeze(1)
                                             .sigmoid(), offset_priors, decoded_bboxes,
                                             gt_bboxes, gt_labels)
        sampling = self.sampler.sample(assign_result, priors, gt_bboxes)
        pos_inds = sampling.pos_inds
        pos_ious = assign_result.max_overlaps[pos_inds]
        cls_target = F.one_hot(sampling.pos_gt_labels, self.num_classes) * pos_ious.unsqueeze(-1)
        obj_target = torch.zeros_like(objectness).unsqueeze(-1)
        obj_target[pos_inds] = 1
        bbox_target = sampling.pos_gt_bboxes
        l1_target = cls_preds.new_zeros((pos_inds.size(0), 4))
        if self.use_l1:
            l1_target = self._get_l1_target(l1_target, bbox_target, priors[pos_inds])
        fg = torch.zeros_like(objectness).to(torch.bool)
        fg[pos_inds] = 1
        return fg, cls_target, obj_target, bbox_target, l1_target, pos_inds.size(0)

    @staticmethod
    def _get_l1_target(l1_target: Tensor, gt_bboxes: Tensor, priors: Tensor,
                       eps: float = 1e-8) -> Tensor:
        """``(center - point) / stride`` and ``log(size / stride + eps)`` of ``gt_bboxes``."""
        gt = bbox_xyxy_to_cxcywh(gt_bboxes)
        l1_target[:, :2] = (gt[:, :2] - priors[:, :2]) / priors[:, 2:]
        l1_target[:, 2:] = torch.log(gt[:, 2:] / priors[:, 2:] + eps)
        return l1_target
