"""``YOLOV3Head``: YOLOv3's per-level prediction maps (MMDetection v2's names and steps).

Per level a 3x3 ``ConvModule`` (``convs_bridge``) then a 1x1 conv (``convs_pred``) to
``A * (5 + C)`` channels: per anchor ``(tx, ty, tw, th, objectness, classes...)``.

Test: ``tx, ty`` sigmoid-ed and decoded with :class:`YOLOBBoxCoder` at the level's stride;
anchors with ``sigmoid(objectness) < conf_thr`` are dropped, then class-wise NMS over
``sigmoid(class)`` scores above ``score_thr``, multiplied by the objectness (``multiclass_nms``'s
score factors). ``nms_pre`` is not used (as in MMDetection's non-ONNX path).

Train: :class:`GridAssigner` on all levels' anchors (responsible = the anchors of the cell
holding a ground-truth center); positives learn the coded box (``tx, ty`` with ``loss_xy``
on the raw logits, ``tw, th`` with ``loss_wh``), objectness 1 and the one-hot (optionally
smoothed) class; negatives learn objectness 0. Losses are per level, summed by the configs.
"""

from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...ops import multiclass_nms
from ...registry import MODELS, TASK_UTILS
from ..layers import ConvModule
from ..layers.norm import is_norm
from ..utils import force_fp32, images_to_levels, multi_apply
from ..weight_init import bias_init_with_prob, constant_init, normal_init
from .base_dense_head import BaseDenseHead

__all__ = ["YOLOV3Head"]

_BN = dict(type="BN", requires_grad=True)
_LEAKY = dict(type="LeakyReLU", negative_slope=0.1)
_ANCHORS = dict(type="YOLOAnchorGenerator",
                base_sizes=[[(116, 90), (156, 198), (373, 326)],
                            [(30, 61), (62, 45), (59, 119)],
                            [(10, 13), (16, 30), (33, 23)]],
                strides=[32, 16, 8])
_SIGMOID_CE = dict(type="CrossEntropyLoss", use_sigmoid=True, loss_weight=1.0)


@MODELS.register_module()
class YOLOV3Head(BaseDenseHead):
    """YOLOv3 head.

    Args:
        num_classes: number of classes (no background).
        in_channels: per level (deepest first) input channels.
        out_channels: per level channels of the bridge conv.
        anchor_generator: ``YOLOAnchorGenerator`` config.
        bbox_coder: ``YOLOBBoxCoder`` config.
        featmap_strides: per level stride (descending).
        one_hot_smoother: label smoothing of the class targets (0: off).
        conv_cfg: conv layer config.
        norm_cfg: norm layer config.
        act_cfg: activation config.
        loss_cls: class loss (sigmoid cross-entropy).
        loss_conf: objectness loss.
        loss_xy: center loss (on logits, targets in ``(0, 1)``).
        loss_wh: size loss (``MSELoss``).
        train_cfg: ``assigner`` (and optionally ``sampler``; ``PseudoSampler`` by default).
        test_cfg: ``conf_thr``, ``score_thr``, ``nms``, ``max_per_img``.
        init_cfg: initialisation config (the head's :meth:`init_weights` replaces it, as in
            MMDetection).
    """

    def __init__(self, num_classes: int, in_channels: Sequence[int],
                 out_channels: Sequence[int] = (1024, 512, 256),
                 anchor_generator: dict = _ANCHORS, bbox_coder: dict | None = None,
                 featmap_strides: Sequence[int] = (32, 16, 8), one_hot_smoother: float = 0.0,
                 conv_cfg: dict | None = None, norm_cfg: dict | None = _BN,
                 act_cfg: dict | None = _LEAKY, loss_cls: dict = _SIGMOID_CE,
                 loss_conf: dict = _SIGMOID_CE, loss_xy: dict = _SIGMOID_CE,
                 loss_wh: dict | None = None, train_cfg: Any = None, test_cfg: Any = None,
                 init_cfg: dict | list | None = None) -> None:
        if init_cfg is None:
            init_cfg = dict(type="Normal", std=0.01, override=dict(name="convs_pred"))
        super().__init__(init_cfg)
        if not len(in_channels) == len(out_channels) == len(featmap_strides):
            raise AssertionError(f"YOLOV3Head: in_channels {list(in_channels)}, out_channels "
                                 f"{list(out_channels)} and featmap_strides "
                                 f"{list(featmap_strides)} must have one entry per level")
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.featmap_strides = featmap_strides
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg
        if self.train_cfg:
            self.assigner = TASK_UTILS.build(self.train_cfg["assigner"])
            sampler_cfg = self.train_cfg.get("sampler", None) or dict(type="PseudoSampler")
            self.sampler = TASK_UTILS.build(sampler_cfg, default_args=dict(context=self))
        self.fp16_enabled = False
        self.one_hot_smoother = one_hot_smoother
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        self.act_cfg = act_cfg
        self.bbox_coder = TASK_UTILS.build(bbox_coder or dict(type="YOLOBBoxCoder"))
        self.prior_generator = TASK_UTILS.build(anchor_generator)
        self.loss_cls = MODELS.build(loss_cls)
        self.loss_conf = MODELS.build(loss_conf)
        self.loss_xy = MODELS.build(loss_xy)
        self.loss_wh = MODELS.build(loss_wh or dict(type="MSELoss", loss_weight=1.0))
        self.num_base_priors = self.prior_generator.num_base_priors[0]
        if len(self.prior_generator.num_base_priors) != len(featmap_strides):
            raise AssertionError("YOLOV3Head: the anchor generator has "
                                 f"{len(self.prior_generator.num_base_priors)} levels but "
                                 f"featmap_strides has {len(featmap_strides)}")
        self._init_layers()

    @property
    def num_levels(self) -> int:
        """Number of levels."""
        return len(self.featmap_strides)

    @property
    def num_attrib(self) -> int:
        """Channels per anchor: 4 box, 1 objectness, ``num_classes``."""
        return 5 + self.num_classes

    def _init_layers(self) -> None:
        self.convs_bridge = nn.ModuleList()
        self.convs_pred = nn.ModuleList()
        for i in range(self.num_levels):
            self.convs_bridge.append(ConvModule(
                self.in_channels[i], self.out_channels[i], 3, padding=1,
                conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg, act_cfg=self.act_cfg))
            self.convs_pred.append(nn.Conv2d(self.out_channels[i],
                                             self.num_base_priors * self.num_attrib, 1))

    def init_weights(self) -> None:
        """Normal(0, 0.01) convs, norms at 1, objectness biases at prior ``8 / (608 / s)^2``,
        class biases at prior 0.01 (MMDetection's override of ``init_cfg``)."""
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                normal_init(module, mean=0, std=0.01)
            if is_norm(module):
                constant_init(module, 1)
        for conv_pred, stride in zip(self.convs_pred, self.featmap_strides):
            bias = conv_pred.bias.data.view(self.num_base_priors, -1)
            nn.init.constant_(bias[:, 4], bias_init_with_prob(8 / (608 / stride) ** 2))
            nn.init.constant_(bias[:, 5:], bias_init_with_prob(0.01))

    def forward(self, feats: Sequence[Tensor]) -> tuple[tuple[Tensor, ...]]:
        """Neck maps (deepest first) -> ``(pred_maps,)``, each ``Tensor[N, A*(5+C), H, W]``."""
        if len(feats) != self.num_levels:
            raise ValueError(f"YOLOV3Head expects {self.num_levels} maps, got {len(feats)}")
        return tuple(self.convs_pred[i](self.convs_bridge[i](feats[i]))
                     for i in range(self.num_levels)),

    def _flatten(self, pred_maps: Sequence[Tensor]) -> Tensor:
        """``Tensor[N, sum(H*W*A), 5 + C]`` from per-level maps (location-major)."""
        num_imgs = pred_maps[0].size(0)
        return torch.cat([p.permute(0, 2, 3, 1).reshape(num_imgs, -1, self.num_attrib)
                          for p in pred_maps], dim=1)

    @force_fp32
    def get_bboxes(self, pred_maps: Sequence[Tensor], img_metas: list[dict],
                   cfg: Any = None, rescale: bool = False,
                   with_nms: bool = True) -> list:
        """Per image ``(dets: Tensor[n, 5], labels: Tensor[n])`` (see the module docstring)."""
        if len(pred_maps) != self.num_levels:
            raise ValueError(f"YOLOV3Head.get_bboxes: expected {self.num_levels} maps, got "
                             f"{len(pred_maps)}")
        cfg = self.test_cfg if cfg is None else cfg
        featmap_sizes = [p.shape[-2:] for p in pred_maps]
        anchors = torch.cat(self.prior_generator.grid_priors(featmap_sizes,
                                                             device=pred_maps[0].device))
        strides = torch.cat([pred_maps[0].new_full((p.shape[-2] * p.shape[-1]
                                                    * self.num_base_priors,), s)
                             for p, s in zip(pred_maps, self.featmap_strides)])
        preds = self._flatten(pred_maps)
        box_preds = torch.cat([preds[..., :2].sigmoid(), preds[..., 2:4]], dim=-1)
        objectness = preds[..., 4].sigmoid()
        cls_scores = preds[..., 5:].sigmoid()
        bboxes = self.bbox_coder.decode(anchors, box_preds, strides.unsqueeze(-1))
        if rescale:
            scale_factors = np.array([meta["scale_factor"] for meta in img_metas])
            bboxes = bboxes / bboxes.new_tensor(scale_factors).unsqueeze(1)
        cls_scores = torch.cat([cls_scores, cls_scores.new_zeros(*cls_scores.shape[:2], 1)], -1)
        conf_thr = cfg.get("conf_thr", -1)
        results = []
        for img_bboxes, img_scores, img_obj in zip(bboxes, cls_scores, objectness):
            if conf_thr > 0:
                keep = img_obj >= conf_thr
                img_bboxes, img_scores, img_obj = img_bboxes[keep], img_scores[keep], img_obj[keep]
            results.append(multiclass_nms(img_bboxes, img_scores, cfg["score_thr"], cfg["nms"],
                                          cfg["max_per_img"], score_factors=img_obj))
        return results

    def aug_test(self, feats: Any, img_metas: Any, rescale: bool = False) -> list:
        """Not supported: the YOLOv3 configs test one view."""
        raise NotImplementedError("YOLOV3Head does not support test-time augmentation")

    @force_fp32
    def loss(self, pred_maps: Sequence[Tensor], gt_bboxes: list[Tensor],
             gt_labels: list[Tensor], img_metas: list[dict],
             gt_bboxes_ignore: list[Tensor] | None = None) -> dict[str, list[Tensor]]:
        """Per level ``loss_cls``, ``loss_conf``, ``loss_xy``, ``loss_wh``."""
        device = pred_maps[0].device
        featmap_sizes = [pred_maps[i].shape[-2:] for i in range(self.num_levels)]
        mlvl_anchors = self.prior_generator.grid_priors(featmap_sizes, device=device)
        flags = [self.prior_generator.responsible_flags(featmap_sizes, gt, device)
                 for gt in gt_bboxes]
        target_maps, neg_maps = self.get_targets([mlvl_anchors] * len(img_metas), flags,
                                                 gt_bboxes, gt_labels)
        losses_cls, losses_conf, losses_xy, losses_wh = multi_apply(
            self.loss_single, pred_maps, target_maps, neg_maps)
        return dict(loss_cls=losses_cls, loss_conf=losses_conf, loss_xy=losses_xy,
                    loss_wh=losses_wh)

    def loss_single(self, pred_map: Tensor, target_map: Tensor,
                    neg_map: Tensor) -> tuple[Tensor, ...]:
        """Losses of one level: ``pred_map`` ``[N, A*(5+C), H, W]``, ``target_map``
        ``[N, H*W*A, 5+C]``, ``neg_map`` ``[N, H*W*A]``."""
        num_imgs = len(pred_map)
        pred_map = pred_map.permute(0, 2, 3, 1).reshape(num_imgs, -1, self.num_attrib)
        pos_mask = target_map[..., 4]
        pos_and_neg_mask = neg_map.float() + pos_mask
        if torch.max(pos_and_neg_mask) > 1.0:
            warnings.warn("There is overlap between pos and neg sample.", stacklevel=2)
            pos_and_neg_mask = pos_and_neg_mask.clamp(min=0.0, max=1.0)
        pos_mask = pos_mask.unsqueeze(dim=-1)
        loss_cls = self.loss_cls(pred_map[..., 5:], target_map[..., 5:], weight=pos_mask)
        loss_conf = self.loss_conf(pred_map[..., 4], target_map[..., 4],
                                   weight=pos_and_neg_mask)
        loss_xy = self.loss_xy(pred_map[..., :2], target_map[..., :2], weight=pos_mask)
        loss_wh = self.loss_wh(pred_map[..., 2:4], target_map[..., 2:4], weight=pos_mask)
        return loss_cls, loss_conf, loss_xy, loss_wh

    def get_targets(self, anchor_list: list[list[Tensor]],
                    responsible_flag_list: list[list[Tensor]], gt_bboxes_list: list[Tensor],
                    gt_labels_list: list[Tensor]) -> tuple[list[Tensor], list[Tensor]]:
        """Per level ``target_maps`` ``[N, H*W*A, 5+C]`` and ``neg_maps`` ``[N, H*W*A]``."""
        num_level_anchors = [anchors.size(0) for anchors in anchor_list[0]]
        target_maps, neg_maps = multi_apply(self._get_targets_single, anchor_list,
                                            responsible_flag_list, gt_bboxes_list,
                                            gt_labels_list)
        return (images_to_levels(target_maps, num_level_anchors),
                images_to_levels(neg_maps, num_level_anchors))

    def _get_targets_single(self, anchors: list[Tensor], responsible_flags: list[Tensor],
                            gt_bboxes: Tensor, gt_labels: Tensor) -> tuple[Tensor, Tensor]:
        """``(target_map [sum(H*W*A), 5+C], neg_map [sum(H*W*A)] uint8)`` of one image."""
        strides = torch.cat([torch.full((len(a),), float(s), device=gt_bboxes.device)
                             for a, s in zip(anchors, self.featmap_strides)])
        concat_anchors = torch.cat(anchors)
        flags = torch.cat(responsible_flags)
        assign_result = self.assigner.assign(concat_anchors, flags, gt_bboxes)
        sampling = self.sampler.sample(assign_result, concat_anchors, gt_bboxes)
        target_map = concat_anchors.new_zeros(concat_anchors.size(0), self.num_attrib)
        pos = sampling.pos_inds
        target_map[pos, :4] = self.bbox_coder.encode(sampling.pos_bboxes,
                                                     sampling.pos_gt_bboxes, strides[pos])
        target_map[pos, 4] = 1
        one_hot = F.one_hot(gt_labels, num_classes=self.num_classes).float()
        if self.one_hot_smoother != 0:
            one_hot = (one_hot * (1 - self.one_hot_smoother)
                       + self.one_hot_smoother / self.num_classes)
        target_map[pos, 5:] = one_hot[sampling.pos_assigned_gt_inds]
        neg_map = concat_anchors.new_zeros(concat_anchors.size(0), dtype=torch.uint8)
        neg_map[sampling.neg_inds] = 1
        return target_map, neg_map
