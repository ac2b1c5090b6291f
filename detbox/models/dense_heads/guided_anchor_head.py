"""``GuidedAnchorHead``: anchors predicted from the features (Wang et al., 2019), v2's names.

Each location has one *square* anchor (``square_anchor_generator``) and ``A`` *approxs*
(``approx_anchor_generator``, the anchors a plain head would use there). The head predicts

* a location logit ``loc_pred: Tensor[B, 1, H, W]`` (``conv_loc``): is an object centered
  here? At test time only locations with ``sigmoid >= loc_filter_thr`` keep an anchor;
* an anchor shape ``shape_pred: Tensor[B, 2, H, W]`` (``conv_shape``): ``(dw, dh)`` deltas
  that turn each square into its *guided anchor* (``anchor_coder``);
* classification and box deltas on the guided anchors, from features adapted to the
  predicted shape (``FeatureAdaption``: a deformable conv whose offsets come from the shape).

Training adds two losses to ``AnchorHead``'s (which it reuses, on the guided anchors):
``loss_loc`` on the location map of :func:`ga_location_targets`, and ``loss_shape``
(Bounded IoU) between the decoded shapes and the ground truths the squares are assigned to by
``ga_assigner`` (``ApproxMaxIoUAssigner``: a square's IoU is the best of its approxs).

>>> import torch
>>> head = GuidedAnchorHead(num_classes=2, in_channels=4, feat_channels=4)
>>> outs = head([torch.zeros(1, 4, 5, 5)])
>>> [tuple(o[0].shape) for o in outs]  # cls_score, bbox_pred, shape_pred, loc_pred
[(1, 2, 5, 5), (1, 4, 5, 5), (1, 2, 5, 5), (1, 1, 5, 5)]
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from ...ops import multiclass_nms
from ...registry import MODELS, TASK_UTILS
from ..layers import FeatureAdaption, MaskedConv2d
from ..utils import force_fp32, images_to_levels, multi_apply, unmap
from .anchor_head import AnchorHead
from .base_dense_head import BaseDenseHead
from .guided_anchor_targets import (
    approx_inside_flags,
    ga_location_targets,
    guided_anchors_single,
)

__all__ = ["FeatureAdaption", "GuidedAnchorHead"]


def _delta_coder() -> dict:
    return dict(type="DeltaXYWHBBoxCoder", target_means=[0.0] * 4, target_stds=[1.0] * 4)


@MODELS.register_module()
class GuidedAnchorHead(AnchorHead):
    """Guided-anchor head (GA-RPN, GA-RetinaNet build on it).

    Args:
        num_classes: object classes (background excluded).
        in_channels: input channels.
        feat_channels: channels of the adapted features.
        approx_anchor_generator: ``AnchorGenerator`` of the approxs (``octave_base_scale``).
        square_anchor_generator: ``AnchorGenerator`` of the squares (``scales=[s]`` with ``s``
            the approxs' ``octave_base_scale``, the same strides).
        anchor_coder: decodes the shape deltas.
        bbox_coder: decodes the box deltas on the guided anchors.
        reg_decoded_bbox: regress decoded boxes.
        deform_groups: offset groups of ``FeatureAdaption``.
        loc_filter_thr: test-time location threshold.
        train_cfg: ``AnchorHead``'s plus ``ga_assigner``, optional ``ga_sampler``,
            ``center_ratio``, ``ignore_ratio``.
        test_cfg: ``nms_pre``, ``score_thr``, ``nms``, ``max_per_img``.
        loss_loc: location loss (focal by default).
        loss_shape: shape loss (``BoundedIoULoss`` by default).
        loss_cls: classification loss.
        loss_bbox: regression loss.
        init_cfg: normal std 0.01 convs, ``conv_loc`` bias for a prior of 0.01.
    """

    def __init__(self, num_classes: int, in_channels: int, feat_channels: int = 256,
                 approx_anchor_generator: dict | None = None,
                 square_anchor_generator: dict | None = None,
                 anchor_coder: dict | None = None, bbox_coder: dict | None = None,
                 reg_decoded_bbox: bool = False, deform_groups: int = 4,
                 loc_filter_thr: float = 0.01, train_cfg: Any = None, test_cfg: Any = None,
                 loss_loc: dict | None = None, loss_shape: dict | None = None,
                 loss_cls: dict | None = None, loss_bbox: dict | None = None,
                 init_cfg: dict | list | None = None) -> None:
        if init_cfg is None:
            init_cfg = dict(type="Normal", layer="Conv2d", std=0.01,
                            override=dict(type="Normal", name="conv_loc", std=0.01,
                                          bias_prob=0.01))
        BaseDenseHead.__init__(self, init_cfg)  # AnchorHead's builders do not apply here
        approx_anchor_generator = approx_anchor_generator or dict(
            type="AnchorGenerator", octave_base_scale=8, scales_per_octave=3,
            ratios=[0.5, 1.0, 2.0], strides=[4, 8, 16, 32, 64])
        square_anchor_generator = square_anchor_generator or dict(
            type="AnchorGenerator", ratios=[1.0], scales=[8], strides=[4, 8, 16, 32, 64])
        loss_loc = loss_loc or dict(type="FocalLoss", use_sigmoid=True, gamma=2.0, alpha=0.25,
                                    loss_weight=1.0)
        loss_shape = loss_shape or dict(type="BoundedIoULoss", beta=0.2, loss_weight=1.0)
        loss_cls = loss_cls or dict(type="CrossEntropyLoss", use_sigmoid=True, loss_weight=1.0)
        loss_bbox = loss_bbox or dict(type="SmoothL1Loss", beta=1.0, loss_weight=1.0)
        if approx_anchor_generator.get("octave_base_scale") != \
                square_anchor_generator.get("scales", [None])[0]:
            raise ValueError("GuidedAnchorHead: square_anchor_generator.scales[0] must equal "
                             "approx_anchor_generator.octave_base_scale")
        if list(approx_anchor_generator["strides"]) != list(square_anchor_generator["strides"]):
            raise ValueError("GuidedAnchorHead: approx_anchor_generator and "
                             "square_anchor_generator must have the same strides")
        self.in_channels = in_channels
        self.num_classes = num_classes
        self.feat_channels = feat_channels
        self.deform_groups = deform_groups
        self.loc_filter_thr = loc_filter_thr
        self.approx_anchor_generator = TASK_UTILS.build(approx_anchor_generator)
        self.square_anchor_generator = TASK_UTILS.build(square_anchor_generator)
        self.prior_generator = self.square_anchor_generator
        self.approxs_per_octave = self.approx_anchor_generator.num_base_priors[0]
        self.num_base_priors = self.square_anchor_generator.num_base_priors[0]
        self.reg_decoded_bbox = reg_decoded_bbox
        self.use_sigmoid_cls = loss_cls.get("use_sigmoid", False)
        self.cls_out_channels = num_classes if self.use_sigmoid_cls else num_classes + 1
        self.loc_focal_loss = loss_loc["type"] == "FocalLoss"
        self.sampling = loss_cls["type"] != "FocalLoss"  # v2's rule for this head
        self.ga_sampling = bool(train_cfg) and "ga_sampler" in train_cfg
        self.anchor_coder = TASK_UTILS.build(anchor_coder or _delta_coder())
        self.bbox_coder = TASK_UTILS.build(bbox_coder or _delta_coder())
        self.loss_loc = MODELS.build(loss_loc)
        self.loss_shape = MODELS.build(loss_shape)
        self.loss_cls = MODELS.build(loss_cls)
        self.loss_bbox = MODELS.build(loss_bbox)
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg
        if train_cfg:
            self.assigner = TASK_UTILS.build(train_cfg["assigner"])
            sampler_cfg = (train_cfg["sampler"] if self.sampling and "sampler" in train_cfg
                           else dict(type="PseudoSampler"))
            self.sampler = TASK_UTILS.build(sampler_cfg)
            self.ga_assigner = TASK_UTILS.build(train_cfg["ga_assigner"])
            self.ga_sampler = TASK_UTILS.build(train_cfg["ga_sampler"] if self.ga_sampling
                                               else dict(type="PseudoSampler"))
        self.fp16_enabled = False
        self._init_layers()

    @property
    def num_anchors(self) -> int:
        """Deprecated name of ``num_base_priors``."""
        return self.num_base_priors

    def _init_layers(self) -> None:
        self.relu = nn.ReLU(inplace=True)
        self.conv_loc = nn.Conv2d(self.in_channels, 1, 1)
        self.conv_shape = nn.Conv2d(self.in_channels, self.num_base_priors * 2, 1)
        self.feature_adaption = FeatureAdaption(self.in_channels, self.feat_channels,
                                                kernel_size=3, deform_groups=self.deform_groups)
        self.conv_cls = MaskedConv2d(self.feat_channels,
                                     self.num_base_priors * self.cls_out_channels, 1)
        self.conv_reg = MaskedConv2d(self.feat_channels, self.num_base_priors * 4, 1)

    def _loc_mask(self, loc_pred: Tensor) -> Tensor | None:
        """Test-time mask ``Tensor[B, H, W]`` of the locations kept (``None`` in training)."""
        if self.training:
            return None
        return loc_pred.sigmoid()[:, 0] >= self.loc_filter_thr

    def forward_single(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """``(cls_score [B, P*C, H, W], bbox_pred [B, P*4, H, W], shape_pred [B, P*2, H, W],
        loc_pred [B, 1, H, W])``; at test time the first two are 0 at filtered locations."""
        loc_pred = self.conv_loc(x)
        shape_pred = self.conv_shape(x)
        x = self.feature_adaption(x, shape_pred)
        mask = self._loc_mask(loc_pred)
        return self.conv_cls(x, mask), self.conv_reg(x, mask), shape_pred, loc_pred

    def forward(self, feats: tuple[Tensor, ...]) -> tuple[list[Tensor], ...]:
        """Per level ``(cls_scores, bbox_preds, shape_preds, loc_preds)``."""
        return multi_apply(self.forward_single, feats)

    # ------------------------------------------------------------------ anchors
    def get_sampled_approxs(self, featmap_sizes: list, img_metas: list[dict],
                            device: Any = "cpu") -> tuple[list, list]:
        """Approxs ``[per image [per level Tensor[H*W*A, 4]]]`` and per-location inside flags
        ``[per image [per level Tensor[H*W]]]`` (any approx inside the image)."""
        approxs = self.approx_anchor_generator.grid_priors(featmap_sizes, device=device)
        inside_flag_list = []
        for meta in img_metas:
            valid = self.approx_anchor_generator.valid_flags(featmap_sizes, meta["pad_shape"],
                                                             device)
            inside_flag_list.append([
                approx_inside_flags(level_approxs, flags, self.approxs_per_octave,
                                    meta["img_shape"], self.train_cfg["allowed_border"])
                for level_approxs, flags in zip(approxs, valid)])
        return [approxs for _ in img_metas], inside_flag_list

    def get_anchors(self, featmap_sizes: list, shape_preds: list[Tensor],  # type: ignore[override]
                    loc_preds: list[Tensor], img_metas: list[dict],
                    use_loc_filter: bool = False, device: Any = "cpu") -> tuple[list, ...]:
        """Squares, guided anchors and location masks, each ``[per image [per level]]``.

        Without ``use_loc_filter`` every location keeps its anchor; with it, only those whose
        location score reaches ``loc_filter_thr``.
        """
        squares = self.square_anchor_generator.grid_priors(featmap_sizes, device=device)
        thr = self.loc_filter_thr if use_loc_filter else None
        anchors_list, masks_list = [], []
        for img_id in range(len(img_metas)):
            results = [guided_anchors_single(squares[lvl], shape_preds[lvl][img_id],
                                             loc_preds[lvl][img_id], self.anchor_coder,
                                             self.num_base_priors, thr)
                       for lvl in range(len(featmap_sizes))]
            anchors_list.append([r[0] for r in results])
            masks_list.append([r[1] for r in results])
        return [squares for _ in img_metas], anchors_list, masks_list

    # ------------------------------------------------------------------ targets
    def ga_loc_targets(self, gt_bboxes_list: list[Tensor], featmap_sizes: list
                       ) -> tuple[list[Tensor], list[Tensor], float]:
        """Location targets of every level (see :func:`ga_location_targets`)."""
        strides = self.approx_anchor_generator.strides
        if any(s[0] != s[1] for s in strides):
            raise ValueError(f"GuidedAnchorHead: only square strides are supported, got "
                             f"{strides}")
        return ga_location_targets(gt_bboxes_list, featmap_sizes,
                                   self.approx_anchor_generator.octave_base_scale,
                                   [s[0] for s in strides], self.train_cfg["center_ratio"],
                                   self.train_cfg["ignore_ratio"])

    def _ga_shape_target_single(self, flat_approxs: Tensor, inside_flags: Tensor,
                                flat_squares: Tensor, gt_bboxes: Tensor,
                                gt_bboxes_ignore: Tensor | None, img_meta: dict,
                                unmap_outputs: bool = True) -> tuple:
        """One image: ``(anchors, gts, weights)`` ``Tensor[N, 4]`` (non-zero at the sampled
        positive squares) and the positive / negative indices."""
        if not inside_flags.any():
            return (None,) * 5
        expanded = inside_flags[:, None].expand(-1, self.approxs_per_octave).reshape(-1)
        approxs = flat_approxs[expanded, :]
        squares = flat_squares[inside_flags, :]
        assign_result = self.ga_assigner.assign(approxs, squares, self.approxs_per_octave,
                                                gt_bboxes, gt_bboxes_ignore)
        sampling_result = self.ga_sampler.sample(assign_result, squares, gt_bboxes)
        bbox_anchors = torch.zeros_like(squares)
        bbox_gts = torch.zeros_like(squares)
        bbox_weights = torch.zeros_like(squares)
        pos_inds, neg_inds = sampling_result.pos_inds, sampling_result.neg_inds
        if len(pos_inds) > 0:
            bbox_anchors[pos_inds, :] = sampling_result.pos_bboxes
            bbox_gts[pos_inds, :] = sampling_result.pos_gt_bboxes
            bbox_weights[pos_inds, :] = 1.0
        if unmap_outputs:
            total = flat_squares.size(0)
            bbox_anchors = unmap(bbox_anchors, total, inside_flags)
            bbox_gts = unmap(bbox_gts, total, inside_flags)
            bbox_weights = unmap(bbox_weights, total, inside_flags)
        return bbox_anchors, bbox_gts, bbox_weights, pos_inds, neg_inds

    def ga_shape_targets(self, approx_list: list, inside_flag_list: list, square_list: list,
                         gt_bboxes_list: list[Tensor], img_metas: list[dict],
                         gt_bboxes_ignore_list: list | None = None,
                         unmap_outputs: bool = True) -> tuple | None:
        """Shape targets split per level (``Tensor[B, N_level, 4]`` each) and the numbers of
        positive and negative squares (each image counted as at least 1)."""
        num_imgs = len(img_metas)
        if not len(approx_list) == len(inside_flag_list) == len(square_list) == num_imgs:
            raise ValueError("ga_shape_targets: one entry per image is needed")
        num_level_squares = [squares.size(0) for squares in square_list[0]]
        if gt_bboxes_ignore_list is None:
            gt_bboxes_ignore_list = [None] * num_imgs
        anchors, gts, weights, pos_inds, neg_inds = multi_apply(
            self._ga_shape_target_single, [torch.cat(a) for a in approx_list],
            [torch.cat(f) for f in inside_flag_list], [torch.cat(s) for s in square_list],
            gt_bboxes_list, gt_bboxes_ignore_list, img_metas, unmap_outputs=unmap_outputs)
        if any(a is None for a in anchors):
            return None
        num_total_pos = sum(max(inds.numel(), 1) for inds in pos_inds)
        num_total_neg = sum(max(inds.numel(), 1) for inds in neg_inds)
        return (images_to_levels(anchors, num_level_squares),
                images_to_levels(gts, num_level_squares),
                images_to_levels(weights, num_level_squares), num_total_pos, num_total_neg)

    # ------------------------------------------------------------------ losses
    def loss_shape_single(self, shape_pred: Tensor, bbox_anchors: Tensor, bbox_gts: Tensor,
                          anchor_weights: Tensor, anchor_total_num: int) -> Tensor:
        """Bounded IoU loss of one level's positive squares with their predicted shapes."""
        shape_pred = shape_pred.permute(0, 2, 3, 1).contiguous().view(-1, 2)
        bbox_anchors = bbox_anchors.contiguous().view(-1, 4)
        bbox_gts = bbox_gts.contiguous().view(-1, 4)
        anchor_weights = anchor_weights.contiguous().view(-1, 4)
        deltas = bbox_anchors.new_full(bbox_anchors.size(), 0)
        deltas[:, 2:] += shape_pred
        inds = torch.nonzero(anchor_weights[:, 0] > 0, as_tuple=False).squeeze(1)
        pred_anchors = self.anchor_coder.decode(bbox_anchors[inds], deltas[inds],
                                                wh_ratio_clip=1e-6)
        return self.loss_shape(pred_anchors, bbox_gts[inds], anchor_weights[inds],
                               avg_factor=anchor_total_num)

    def loss_loc_single(self, loc_pred: Tensor, loc_target: Tensor, loc_weight: Tensor,
                        loc_avg_factor: float) -> Tensor:
        """Location loss of one level (``Tensor[B, 1, H, W]`` each)."""
        return self.loss_loc(loc_pred.reshape(-1, 1), loc_target.reshape(-1).long(),
                             loc_weight.reshape(-1), avg_factor=loc_avg_factor)

    @force_fp32
    def loss(self, cls_scores: list[Tensor], bbox_preds: list[Tensor],  # type: ignore[override]
             shape_preds: list[Tensor], loc_preds: list[Tensor], gt_bboxes: list[Tensor],
             gt_labels: list[Tensor] | None, img_metas: list[dict],
             gt_bboxes_ignore: list[Tensor] | None = None) -> dict | None:
        """``dict(loss_cls, loss_bbox, loss_shape, loss_loc)``, each a list over levels."""
        if not self.train_cfg:
            raise ValueError(f"{type(self).__name__}: training needs a train_cfg (assigner, "
                             "ga_assigner, allowed_border, center_ratio, ignore_ratio, ...); "
                             "the model was built without one")
        featmap_sizes = [f.size()[-2:] for f in cls_scores]
        if len(featmap_sizes) != self.approx_anchor_generator.num_levels:
            raise ValueError(f"{len(featmap_sizes)} feature levels but the approx generator "
                             f"has {self.approx_anchor_generator.num_levels}")
        device = cls_scores[0].device
        loc_targets, loc_weights, loc_avg_factor = self.ga_loc_targets(gt_bboxes, featmap_sizes)
        approxs_list, inside_flag_list = self.get_sampled_approxs(featmap_sizes, img_metas,
                                                                  device=device)
        squares_list, guided_anchors_list, _ = self.get_anchors(
            featmap_sizes, shape_preds, loc_preds, img_metas, device=device)
        shape_targets = self.ga_shape_targets(approxs_list, inside_flag_list, squares_list,
                                              gt_bboxes, img_metas)
        if shape_targets is None:
            return None
        anchors_per_level, gts_per_level, weights_per_level, num_fg, num_bg = shape_targets
        anchor_total_num = num_fg + num_bg if self.ga_sampling else num_fg
        label_channels = self.cls_out_channels if self.use_sigmoid_cls else 1
        cls_reg_targets = self.get_targets(
            guided_anchors_list, inside_flag_list, gt_bboxes, img_metas,
            gt_bboxes_ignore_list=gt_bboxes_ignore, gt_labels_list=gt_labels,
            label_channels=label_channels)
        if cls_reg_targets is None:
            return None
        labels, label_weights, bbox_targets, bbox_weights, num_pos, num_neg = cls_reg_targets
        num_total_samples = num_pos + num_neg if self.sampling else num_pos
        num_level_anchors = [a.size(0) for a in guided_anchors_list[0]]
        all_anchors = images_to_levels([torch.cat(a) for a in guided_anchors_list],
                                       num_level_anchors)
        losses_cls, losses_bbox = multi_apply(
            self.loss_single, cls_scores, bbox_preds, all_anchors, labels, label_weights,
            bbox_targets, bbox_weights, num_total_samples=num_total_samples)
        losses_loc = [self.loss_loc_single(loc_preds[i], loc_targets[i], loc_weights[i],
                                           loc_avg_factor) for i in range(len(loc_preds))]
        losses_shape = [self.loss_shape_single(shape_preds[i], anchors_per_level[i],
                                               gts_per_level[i], weights_per_level[i],
                                               anchor_total_num)
                        for i in range(len(shape_preds))]
        return dict(loss_cls=losses_cls, loss_bbox=losses_bbox, loss_shape=losses_shape,
                    loss_loc=losses_loc)

    # ------------------------------------------------------------------ test
    @force_fp32
    def get_bboxes(self, cls_scores: list[Tensor], bbox_preds: list[Tensor],  # type: ignore[override]
                   shape_preds: list[Tensor], loc_preds: list[Tensor],
                   img_metas: list[dict] | None = None, cfg: Any = None,
                   rescale: bool = False, with_nms: bool = True) -> list:
        """Detections (or proposals) of each image from the guided anchors; in eval mode only
        the locations passing ``loc_filter_thr`` take part.

        ``with_nms=False`` (the candidates one-stage test-time augmentation merges) is not
        supported, as in MMDetection.
        """
        if not with_nms:
            raise NotImplementedError(f"{type(self).__name__}.get_bboxes has no with_nms=False "
                                      "(test-time augmentation of one-stage guided anchors)")
        if not len(cls_scores) == len(bbox_preds) == len(shape_preds) == len(loc_preds):
            raise ValueError("get_bboxes: the four outputs need one tensor per level each")
        num_levels = len(cls_scores)
        featmap_sizes = [f.size()[-2:] for f in cls_scores]
        _, guided_anchors, loc_masks = self.get_anchors(
            featmap_sizes, shape_preds, loc_preds, img_metas, use_loc_filter=not self.training,
            device=cls_scores[0].device)
        results = []
        for img_id, meta in enumerate(img_metas):
            results.append(self._get_guided_bboxes_single(
                [cls_scores[i][img_id].detach() for i in range(num_levels)],
                [bbox_preds[i][img_id].detach() for i in range(num_levels)],
                [guided_anchors[img_id][i].detach() for i in range(num_levels)],
                [loc_masks[img_id][i].detach() for i in range(num_levels)],
                meta["img_shape"], meta["scale_factor"], cfg, rescale))
        return results

    def _get_guided_bboxes_single(self, cls_scores: list[Tensor], bbox_preds: list[Tensor],
                                  mlvl_anchors: list[Tensor], mlvl_masks: list[Tensor],
                                  img_shape: Any, scale_factor: Any, cfg: Any,
                                  rescale: bool = False) -> tuple[Tensor, Tensor]:
        """Detections of one image: per level, the kept locations' scores, the ``nms_pre``
        anchors with the best class score, decoded; then class-wise NMS above ``score_thr``.

        Returns:
            ``(dets: Tensor[n, 5], labels: Tensor[n])``.
        """
        cfg = self.test_cfg if cfg is None else cfg
        nms_pre = cfg.get("nms_pre", -1)
        mlvl_bboxes, mlvl_scores = [], []
        for cls_score, bbox_pred, anchors, mask in zip(cls_scores, bbox_preds, mlvl_anchors,
                                                       mlvl_masks):
            if mask.sum() == 0:
                continue
            cls_score = cls_score.permute(1, 2, 0).reshape(-1, self.cls_out_channels)
            scores = cls_score.sigmoid() if self.use_sigmoid_cls else cls_score.softmax(-1)
            scores = scores[mask, :]
            bbox_pred = bbox_pred.permute(1, 2, 0).reshape(-1, 4)[mask, :]
            if 0 < nms_pre < scores.shape[0]:
                fg_scores = scores if self.use_sigmoid_cls else scores[:, :-1]
                _, topk_inds = fg_scores.max(dim=1).values.topk(nms_pre)
                anchors, bbox_pred, scores = (anchors[topk_inds, :], bbox_pred[topk_inds, :],
                                              scores[topk_inds, :])
            mlvl_bboxes.append(self.bbox_coder.decode(anchors, bbox_pred, max_shape=img_shape))
            mlvl_scores.append(scores)
        if not mlvl_bboxes:
            empty = cls_scores[0].new_zeros(0, 5)
            return empty, empty.new_zeros(0, dtype=torch.long)
        bboxes = torch.cat(mlvl_bboxes)
        if rescale:
            bboxes /= bboxes.new_tensor(scale_factor)
        scores = torch.cat(mlvl_scores)
        if self.use_sigmoid_cls:  # the background column multiclass_nms expects
            scores = torch.cat([scores, scores.new_zeros(scores.shape[0], 1)], dim=1)
        return multiclass_nms(bboxes, scores, cfg["score_thr"], cfg["nms"], cfg["max_per_img"])
