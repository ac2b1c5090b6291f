"""``BBoxHead``: classify RoIs and regress their boxes; targets, losses and decoding."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.modules.utils import _pair

from ....ops import multiclass_nms
from ....registry import MODELS, TASK_UTILS
from ...base_module import BaseModule
from ...losses import accuracy
from ...utils import force_fp32, multi_apply


def build_linear_layer(cfg: dict | None, in_features: int, out_features: int) -> nn.Module:
    """The predictor layer: only ``dict(type='Linear')`` (``nn.Linear``) is supported."""
    cfg = dict(cfg or dict(type="Linear"))
    layer_type = cfg.pop("type", "Linear")
    if layer_type != "Linear":
        raise NotImplementedError(f"predictor type '{layer_type}' is not supported; use 'Linear'")
    return nn.Linear(in_features, out_features, **cfg)


@MODELS.register_module()
class BBoxHead(BaseModule):
    """The simplest RoI box head: optional average pooling, then two linear predictors.

    Args:
        with_avg_pool: average-pool the RoI features first.
        with_cls: predict class scores (``fc_cls``: ``num_classes + 1`` outputs).
        with_reg: predict box deltas (``fc_reg``: 4, or ``4 * num_classes``).
        roi_feat_size: side of the pooled RoI features.
        in_channels: channels of the RoI features.
        num_classes: number of object classes (background excluded).
        bbox_coder: box coder config.
        reg_class_agnostic: one box per RoI instead of one per class.
        reg_decoded_bbox: compute the regression loss on decoded boxes.
        reg_predictor_cfg: regression layer config (``Linear``).
        cls_predictor_cfg: classification layer config (``Linear``).
        loss_cls: classification loss config.
        loss_bbox: regression loss config.
        init_cfg: initialisation config; by default normal std 0.01 / 0.001 on the predictors.
    """

    def __init__(self, with_avg_pool: bool = False, with_cls: bool = True, with_reg: bool = True,
                 roi_feat_size: int = 7, in_channels: int = 256, num_classes: int = 80,
                 bbox_coder: dict | None = None, reg_class_agnostic: bool = False,
                 reg_decoded_bbox: bool = False, reg_predictor_cfg: dict | None = None,
                 cls_predictor_cfg: dict | None = None, loss_cls: dict | None = None,
                 loss_bbox: dict | None = None, init_cfg: dict | list | None = None) -> None:
        super().__init__(init_cfg)
        if not (with_cls or with_reg):
            raise ValueError("a BBoxHead needs with_cls or with_reg")
        bbox_coder = bbox_coder or dict(type="DeltaXYWHBBoxCoder", clip_border=True,
                                        target_means=[0.0] * 4, target_stds=[0.1, 0.1, 0.2, 0.2])
        loss_cls = loss_cls or dict(type="CrossEntropyLoss", use_sigmoid=False, loss_weight=1.0)
        loss_bbox = loss_bbox or dict(type="SmoothL1Loss", beta=1.0, loss_weight=1.0)
        self.with_avg_pool = with_avg_pool
        self.with_cls = with_cls
        self.with_reg = with_reg
        self.roi_feat_size = _pair(roi_feat_size)
        self.roi_feat_area = self.roi_feat_size[0] * self.roi_feat_size[1]
        self.in_channels = in_channels
        self.num_classes = num_classes
        self.reg_class_agnostic = reg_class_agnostic
        self.reg_decoded_bbox = reg_decoded_bbox
        self.reg_predictor_cfg = reg_predictor_cfg or dict(type="Linear")
        self.cls_predictor_cfg = cls_predictor_cfg or dict(type="Linear")
        self.fp16_enabled = False
        self.bbox_coder = TASK_UTILS.build(bbox_coder)
        self.loss_cls = MODELS.build(loss_cls)
        self.loss_bbox = MODELS.build(loss_bbox)
        in_features = in_channels
        if with_avg_pool:
            self.avg_pool = nn.AvgPool2d(self.roi_feat_size)
        else:
            in_features *= self.roi_feat_area
        if with_cls:
            self.fc_cls = build_linear_layer(self.cls_predictor_cfg, in_features, num_classes + 1)
        if with_reg:
            out_reg = 4 if reg_class_agnostic else 4 * num_classes
            self.fc_reg = build_linear_layer(self.reg_predictor_cfg, in_features, out_reg)
        if init_cfg is None:
            self.init_cfg = []
            if with_cls:
                self.init_cfg.append(dict(type="Normal", std=0.01, override=dict(name="fc_cls")))
            if with_reg:
                self.init_cfg.append(dict(type="Normal", std=0.001, override=dict(name="fc_reg")))

    @property
    def custom_cls_channels(self) -> bool:
        return getattr(self.loss_cls, "custom_cls_channels", False)

    @property
    def custom_activation(self) -> bool:
        return getattr(self.loss_cls, "custom_activation", False)

    def forward(self, x: Tensor) -> tuple[Tensor | None, Tensor | None]:
        """RoI features ``Tensor[K, C, h, w]`` -> ``cls_score[K, C+1]``, ``bbox_pred[K, 4*]``."""
        if self.with_avg_pool:
            x = self.avg_pool(x).flatten(1) if x.numel() > 0 else torch.mean(x, dim=(-1, -2))
        x = x.flatten(1)
        cls_score = self.fc_cls(x) if self.with_cls else None
        bbox_pred = self.fc_reg(x) if self.with_reg else None
        return cls_score, bbox_pred

    def _get_target_single(self, pos_bboxes: Tensor, neg_bboxes: Tensor, pos_gt_bboxes: Tensor,
                           pos_gt_labels: Tensor, cfg: Any) -> tuple[Tensor, ...]:
        """Targets of one image: positives first, then negatives (labels = num_classes)."""
        num_pos, num_neg = pos_bboxes.size(0), neg_bboxes.size(0)
        num = num_pos + num_neg
        labels = pos_bboxes.new_full((num,), self.num_classes, dtype=torch.long)
        label_weights = pos_bboxes.new_zeros(num)
        bbox_targets = pos_bboxes.new_zeros(num, 4)
        bbox_weights = pos_bboxes.new_zeros(num, 4)
        if num_pos > 0:
            labels[:num_pos] = pos_gt_labels
            pos_weight = cfg["pos_weight"]
            label_weights[:num_pos] = 1.0 if pos_weight <= 0 else pos_weight
            if self.reg_decoded_bbox:
                bbox_targets[:num_pos, :] = pos_gt_bboxes
            else:
                bbox_targets[:num_pos, :] = self.bbox_coder.encode(pos_bboxes, pos_gt_bboxes)
            bbox_weights[:num_pos, :] = 1
        if num_neg > 0:
            label_weights[-num_neg:] = 1.0
        return labels, label_weights, bbox_targets, bbox_weights

    def get_targets(self, sampling_results: list, gt_bboxes: list[Tensor],
                    gt_labels: list[Tensor], rcnn_train_cfg: Any, concat: bool = True) -> tuple:
        """Labels, label weights, box targets and box weights of all sampled RoIs."""
        outs = multi_apply(self._get_target_single,
                           [r.pos_bboxes for r in sampling_results],
                           [r.neg_bboxes for r in sampling_results],
                           [r.pos_gt_bboxes for r in sampling_results],
                           [r.pos_gt_labels for r in sampling_results], cfg=rcnn_train_cfg)
        if concat:
            return tuple(torch.cat(o, 0) for o in outs)
        return outs

    @force_fp32
    def loss(self, cls_score: Tensor | None, bbox_pred: Tensor | None, rois: Tensor,
             labels: Tensor, label_weights: Tensor, bbox_targets: Tensor, bbox_weights: Tensor,
             reduction_override: str | None = None) -> dict:
        """``loss_cls``, ``acc`` and ``loss_bbox`` (averaged over all sampled RoIs)."""
        losses: dict = {}
        if cls_score is not None:
            avg_factor = max(torch.sum(label_weights > 0).float().item(), 1.0)
            if cls_score.numel() > 0:
                loss_cls = self.loss_cls(cls_score, labels, label_weights, avg_factor=avg_factor,
                                         reduction_override=reduction_override)
                if isinstance(loss_cls, dict):
                    losses.update(loss_cls)
                else:
                    losses["loss_cls"] = loss_cls
                losses["acc"] = accuracy(cls_score, labels)
        if bbox_pred is not None:
            pos = (labels >= 0) & (labels < self.num_classes)
            if pos.any():
                if self.reg_decoded_bbox:
                    bbox_pred = self.bbox_coder.decode(rois[:, 1:], bbox_pred)
                if self.reg_class_agnostic:
                    pos_pred = bbox_pred.view(bbox_pred.size(0), 4)[pos]
                else:
                    pos_pred = bbox_pred.view(bbox_pred.size(0), -1, 4)[pos, labels[pos]]
                losses["loss_bbox"] = self.loss_bbox(
                    pos_pred, bbox_targets[pos], bbox_weights[pos],
                    avg_factor=bbox_targets.size(0), reduction_override=reduction_override)
            else:
                losses["loss_bbox"] = bbox_pred[pos].sum()
        return losses

    @force_fp32
    def get_bboxes(self, rois: Tensor, cls_score: Tensor | None, bbox_pred: Tensor | None,
                   img_shape: tuple | None, scale_factor: Any, rescale: bool = False,
                   cfg: Any = None) -> tuple[Tensor, Tensor]:
        """Decode one image's RoIs; with ``cfg``, run ``multiclass_nms``.

        Returns:
            ``(bboxes[K, 4*C], scores[K, C+1])`` without ``cfg``; else
            ``(dets[n, 5], labels[n])``.
        """
        scores = F.softmax(cls_score, dim=-1) if cls_score is not None else None
        if bbox_pred is not None:
            bboxes = self.bbox_coder.decode(rois[..., 1:], bbox_pred, max_shape=img_shape)
        else:
            bboxes = rois[:, 1:].clone()
            if img_shape is not None:
                bboxes[:, [0, 2]] = bboxes[:, [0, 2]].clamp(min=0, max=img_shape[1])
                bboxes[:, [1, 3]] = bboxes[:, [1, 3]].clamp(min=0, max=img_shape[0])
        if rescale and bboxes.size(0) > 0:
            scale = bboxes.new_tensor(scale_factor)
            bboxes = (bboxes.view(bboxes.size(0), -1, 4) / scale).view(bboxes.size(0), -1)
        if cfg is None:
            return bboxes, scores
        return multiclass_nms(bboxes, scores, cfg["score_thr"], cfg["nms"], cfg["max_per_img"])

    @force_fp32
    def refine_bboxes(self, rois: Tensor, labels: Tensor, bbox_preds: Tensor,
                      pos_is_gts: list[Tensor], img_metas: list[dict]) -> list[Tensor]:
        """Regressed RoIs of each image for the next cascade stage, ground truths removed."""
        refined = []
        for i, meta in enumerate(img_metas):
            inds = torch.nonzero(rois[:, 0] == i, as_tuple=False).squeeze(dim=1)
            boxes = self.regress_by_class(rois[inds, 1:], labels[inds], bbox_preds[inds], meta)
            keep = pos_is_gts[i].new_ones(inds.numel())
            keep[:len(pos_is_gts[i])] = 1 - pos_is_gts[i]
            refined.append(boxes[keep.type(torch.bool)])
        return refined

    @force_fp32
    def regress_by_class(self, rois: Tensor, label: Tensor, bbox_pred: Tensor,
                         img_meta: dict) -> Tensor:
        """Apply each RoI's deltas for ``label`` (``rois: Tensor[K, 4]`` or ``[K, 5]``)."""
        if rois.size(1) not in (4, 5):
            raise ValueError(f"rois must have 4 or 5 columns, got {tuple(rois.shape)}")
        if not self.reg_class_agnostic:
            label = label * 4
            inds = torch.stack((label, label + 1, label + 2, label + 3), 1)
            bbox_pred = torch.gather(bbox_pred, 1, inds)
        max_shape = img_meta["img_shape"]
        if rois.size(1) == 4:
            return self.bbox_coder.decode(rois, bbox_pred, max_shape=max_shape)
        boxes = self.bbox_coder.decode(rois[:, 1:], bbox_pred, max_shape=max_shape)
        return torch.cat((rois[:, [0]], boxes), dim=1)
