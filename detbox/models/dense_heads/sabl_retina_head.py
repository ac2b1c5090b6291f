"""``SABLRetinaHead``: RetinaNet with Side-Aware Boundary Localization (Wang et al., 2020).

The towers and the classifier ``retina_cls`` are RetinaNet's; the box branch predicts, per
location (one square anchor each), bucket logits ``retina_bbox_cls`` and bucket offsets
``retina_bbox_reg`` (``4 * ceil(num_buckets / 2)`` channels each), coded by
``BucketingBBoxCoder``. Training assigns the squares with ``ApproxMaxIoUAssigner``: a square's
IoU is the best IoU of the ``approxs_per_octave`` approx anchors of its location (as Guided
Anchoring does). At test time each box's score is its class score times the coder's
localization confidence.

>>> import torch
>>> head = SABLRetinaHead(num_classes=3, in_channels=8, feat_channels=8, stacked_convs=1)
>>> cls_scores, bbox_preds = head([torch.zeros(1, 8, 4, 4)])
>>> tuple(cls_scores[0].shape), [tuple(p.shape) for p in bbox_preds[0]]
((1, 3, 4, 4), [(1, 28, 4, 4), (1, 28, 4, 4)])
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from ...registry import MODELS, TASK_UTILS
from ..utils import anchor_inside_flags, force_fp32, images_to_levels, multi_apply, unmap
from .anchor_head import _NO_SAMPLING_LOSSES
from .head_utils import filter_scores_and_topk, run_towers
from .retina_head import RetinaHead

__all__ = ["SABLRetinaHead", "approx_inside_flags"]


def approx_inside_flags(approxs: Tensor, valid_flags: Tensor, approxs_per_octave: int,
                        img_shape: tuple, allowed_border: int) -> Tensor:
    """Locations of one level with at least one valid approx inside the image.

    Args:
        approxs: ``Tensor[N * A, 4]`` approx anchors, the ``A`` of each location consecutive.
        valid_flags: ``Tensor[N * A]`` bool valid flags of the approxs.
        approxs_per_octave: ``A``.
        img_shape: ``(h, w, ...)`` of the image.
        allowed_border: as for :func:`anchor_inside_flags` (negative: keep all valid).

    Returns:
        ``Tensor[N]`` bool.
    """
    inside = [anchor_inside_flags(approxs[i::approxs_per_octave],
                                  valid_flags[i::approxs_per_octave], img_shape[:2],
                                  allowed_border) for i in range(approxs_per_octave)]
    return torch.stack(inside, 0).sum(dim=0) > 0


@MODELS.register_module()
class SABLRetinaHead(RetinaHead):
    """SABL's RetinaNet head (MMDetection v2 names and defaults).

    Args:
        num_classes: number of object classes (background excluded).
        in_channels: channels of the input feature maps.
        stacked_convs: 3x3 convs in each tower.
        feat_channels: channels of the towers.
        approx_anchor_generator: the approx anchors (assignment only); its
            ``octave_base_scale`` and ``strides`` must equal the square generator's.
        square_anchor_generator: one square anchor per location (the priors).
        conv_cfg: conv layer config of the towers.
        norm_cfg: norm layer config of the towers.
        bbox_coder: ``BucketingBBoxCoder`` config (``num_buckets`` sets the channels).
        reg_decoded_bbox: kept for MMDetection's signature (unused by SABL).
        train_cfg: ``assigner``, optional ``sampler``, ``allowed_border``, ``pos_weight``.
        test_cfg: ``nms_pre``, ``score_thr``, ``nms``, ``max_per_img``.
        loss_cls: classification loss (focal: no sampling).
        loss_bbox_cls: bucket classification loss (sigmoid cross-entropy).
        loss_bbox_reg: bucket offset loss.
        init_cfg: initialisation (RetinaNet's by default).
    """

    def __init__(self, num_classes: int, in_channels: int, stacked_convs: int = 4,
                 feat_channels: int = 256, approx_anchor_generator: dict | None = None,
                 square_anchor_generator: dict | None = None, conv_cfg: dict | None = None,
                 norm_cfg: dict | None = None, bbox_coder: dict | None = None,
                 reg_decoded_bbox: bool = False, train_cfg: Any = None, test_cfg: Any = None,
                 loss_cls: dict | None = None, loss_bbox_cls: dict | None = None,
                 loss_bbox_reg: dict | None = None,
                 init_cfg: dict | list | None = None) -> None:
        approx_anchor_generator = approx_anchor_generator or dict(
            type="AnchorGenerator", octave_base_scale=4, scales_per_octave=3,
            ratios=[0.5, 1.0, 2.0], strides=[8, 16, 32, 64, 128])
        square_anchor_generator = square_anchor_generator or dict(
            type="AnchorGenerator", ratios=[1.0], scales=[4], strides=[8, 16, 32, 64, 128])
        bbox_coder = bbox_coder or dict(type="BucketingBBoxCoder", num_buckets=14,
                                        scale_factor=3.0)
        loss_cls = loss_cls or dict(type="FocalLoss", use_sigmoid=True, gamma=2.0, alpha=0.25,
                                    loss_weight=1.0)
        loss_bbox_cls = loss_bbox_cls or dict(type="CrossEntropyLoss", use_sigmoid=True,
                                              loss_weight=1.5)
        loss_bbox_reg = loss_bbox_reg or dict(type="SmoothL1Loss", beta=1.0 / 9.0,
                                              loss_weight=1.5)
        if approx_anchor_generator.get("octave_base_scale") != \
                square_anchor_generator.get("scales", [None])[0]:
            raise ValueError("SABLRetinaHead: approx_anchor_generator.octave_base_scale must "
                             "equal square_anchor_generator.scales[0]")
        if list(approx_anchor_generator["strides"]) != list(square_anchor_generator["strides"]):
            raise ValueError("SABLRetinaHead: the approx and square anchor generators must "
                             "have the same strides")
        self.num_buckets = bbox_coder["num_buckets"]
        self.side_num = math.ceil(self.num_buckets / 2)
        super().__init__(num_classes, in_channels, stacked_convs=stacked_convs,
                         conv_cfg=conv_cfg, norm_cfg=norm_cfg,
                         anchor_generator=square_anchor_generator, init_cfg=init_cfg,
                         feat_channels=feat_channels, bbox_coder=bbox_coder,
                         reg_decoded_bbox=reg_decoded_bbox, loss_cls=loss_cls,
                         loss_bbox=loss_bbox_reg, train_cfg=train_cfg, test_cfg=test_cfg)
        self.loss_bbox_reg = self.loss_bbox
        del self.loss_bbox
        self.loss_bbox_cls = MODELS.build(loss_bbox_cls)
        self.square_anchor_generator = self.prior_generator
        self.approx_anchor_generator = TASK_UTILS.build(approx_anchor_generator)
        self.approxs_per_octave = self.approx_anchor_generator.num_base_priors[0]
        # v2's SABL decides sampling by the loss type alone
        self.sampling = loss_cls["type"] not in _NO_SAMPLING_LOSSES
        if train_cfg:
            sampler_cfg = train_cfg.get("sampler") if self.sampling else None
            self.sampler = TASK_UTILS.build(sampler_cfg or dict(type="PseudoSampler"))

    def _init_layers(self) -> None:
        super()._init_layers()
        del self.retina_reg
        self.retina_bbox_reg = nn.Conv2d(self.feat_channels, self.side_num * 4, 3, padding=1)
        self.retina_bbox_cls = nn.Conv2d(self.feat_channels, self.side_num * 4, 3, padding=1)

    def forward_single(self, x: Tensor) -> tuple[Tensor, tuple[Tensor, Tensor]]:  # type: ignore[override]
        """``x: Tensor[B, in, H, W]`` -> ``(cls_score[B, C, H, W], (bucket_cls[B, 4S, H, W],
        bucket_offsets[B, 4S, H, W]))``."""
        cls_feat, reg_feat = run_towers(x, self.cls_convs, self.reg_convs)
        return (self.retina_cls(cls_feat),
                (self.retina_bbox_cls(reg_feat), self.retina_bbox_reg(reg_feat)))

    def get_squares(self, featmap_sizes: list, img_metas: list[dict], device: Any = "cpu"
                    ) -> list[list[Tensor]]:
        """The square anchors ``Tensor[H*W, 4]`` per level, for each image."""
        squares = self.square_anchor_generator.grid_priors(featmap_sizes, device=device)
        return [squares for _ in img_metas]

    def get_sampled_approxs(self, featmap_sizes: list, img_metas: list[dict],
                            device: Any = "cpu") -> tuple[list[list[Tensor]], list[list[Tensor]]]:
        """Approx anchors ``Tensor[H*W*A, 4]`` per level and, per image and level, the
        locations' inside flags ``Tensor[H*W]`` (any valid approx inside the image)."""
        approxs = self.approx_anchor_generator.grid_priors(featmap_sizes, device=device)
        inside_flags = []
        for meta in img_metas:
            valid = self.approx_anchor_generator.valid_flags(featmap_sizes, meta["pad_shape"],
                                                             device=device)
            inside_flags.append([
                approx_inside_flags(level_approxs, flags, self.approxs_per_octave,
                                    meta["img_shape"], self.train_cfg["allowed_border"])
                for level_approxs, flags in zip(approxs, valid)])
        return [approxs for _ in img_metas], inside_flags

    def _get_bucket_targets_single(self, flat_approxs: Tensor, inside_flags: Tensor,
                                   flat_squares: Tensor, gt_bboxes: Tensor,
                                   gt_bboxes_ignore: Tensor | None, gt_labels: Tensor | None,
                                   unmap_outputs: bool = True) -> tuple:
        """Labels, label weights and bucket targets/weights of one image's squares."""
        if not inside_flags.any():
            return (None,) * 8
        expanded = inside_flags[:, None].expand(-1, self.approxs_per_octave).reshape(-1)
        approxs = flat_approxs[expanded, :]
        squares = flat_squares[inside_flags, :]
        assign_result = self.assigner.assign(approxs, squares, self.approxs_per_octave,
                                             gt_bboxes, gt_bboxes_ignore)
        sampling_result = self.sampler.sample(assign_result, squares, gt_bboxes)
        num_valid = squares.shape[0]
        bucket_targets = [squares.new_zeros((num_valid, self.side_num * 4)) for _ in range(4)]
        labels = squares.new_full((num_valid,), self.num_classes, dtype=torch.long)
        label_weights = squares.new_zeros(num_valid, dtype=torch.float)
        pos_inds, neg_inds = sampling_result.pos_inds, sampling_result.neg_inds
        if len(pos_inds) > 0:
            offsets, offset_weights, bucket_labels, bucket_weights = self.bbox_coder.encode(
                sampling_result.pos_bboxes, sampling_result.pos_gt_bboxes)
            for target, value in zip(bucket_targets, (bucket_labels, bucket_weights, offsets,
                                                      offset_weights)):
                target[pos_inds, :] = value
            if gt_labels is None:
                labels[pos_inds] = 0  # one foreground class
            else:
                labels[pos_inds] = gt_labels[sampling_result.pos_assigned_gt_inds]
            pos_weight = self.train_cfg["pos_weight"]
            label_weights[pos_inds] = 1.0 if pos_weight <= 0 else pos_weight
        if len(neg_inds) > 0:
            label_weights[neg_inds] = 1.0
        if unmap_outputs:
            total = flat_squares.size(0)
            labels = unmap(labels, total, inside_flags, fill=self.num_classes)
            label_weights = unmap(label_weights, total, inside_flags)
            bucket_targets = [unmap(t, total, inside_flags) for t in bucket_targets]
        return (labels, label_weights, *bucket_targets, pos_inds, neg_inds)

    def get_bucket_targets(self, approx_list: list, inside_flag_list: list, square_list: list,
                           gt_bboxes_list: list[Tensor], img_metas: list[dict],
                           gt_bboxes_ignore_list: list | None = None,
                           gt_labels_list: list | None = None, unmap_outputs: bool = True
                           ) -> tuple | None:
        """Per level ``labels[B, N]``, ``label_weights``, ``bucket_cls_targets[B, N, 4S]``,
        ``bucket_cls_weights``, ``bucket_offset_targets``, ``bucket_offset_weights``, then
        ``num_total_pos``, ``num_total_neg``; ``None`` when an image has no valid square."""
        num_imgs = len(img_metas)
        num_level_squares = [s.size(0) for s in square_list[0]]
        if gt_bboxes_ignore_list is None:
            gt_bboxes_ignore_list = [None] * num_imgs
        if gt_labels_list is None:
            gt_labels_list = [None] * num_imgs
        results = multi_apply(self._get_bucket_targets_single,
                              [torch.cat(a) for a in approx_list],
                              [torch.cat(f) for f in inside_flag_list],
                              [torch.cat(s) for s in square_list], gt_bboxes_list,
                              gt_bboxes_ignore_list, gt_labels_list, unmap_outputs=unmap_outputs)
        if any(labels is None for labels in results[0]):
            return None
        pos_inds, neg_inds = results[6], results[7]
        num_total_pos = sum(max(inds.numel(), 1) for inds in pos_inds)
        num_total_neg = sum(max(inds.numel(), 1) for inds in neg_inds)
        return (*(images_to_levels(r, num_level_squares) for r in results[:6]),
                num_total_pos, num_total_neg)

    def loss_single(self, cls_score: Tensor, bbox_pred: tuple[Tensor, Tensor],  # type: ignore[override]
                    labels: Tensor, label_weights: Tensor, bucket_cls_targets: Tensor,
                    bucket_cls_weights: Tensor, bucket_offset_targets: Tensor,
                    bucket_offset_weights: Tensor, num_total_samples: int
                    ) -> tuple[Tensor, Tensor, Tensor]:
        """Classification, bucket classification and bucket offset losses of one level."""
        channels = self.side_num * 4
        cls_score = cls_score.permute(0, 2, 3, 1).reshape(-1, self.cls_out_channels)
        loss_cls = self.loss_cls(cls_score, labels.reshape(-1), label_weights.reshape(-1),
                                 avg_factor=num_total_samples)
        bucket_cls_pred, bucket_offset_pred = (
            p.permute(0, 2, 3, 1).reshape(-1, channels) for p in bbox_pred)
        loss_bbox_cls = self.loss_bbox_cls(
            bucket_cls_pred, bucket_cls_targets.reshape(-1, channels).long(),
            bucket_cls_weights.reshape(-1, channels), avg_factor=num_total_samples * channels)
        loss_bbox_reg = self.loss_bbox_reg(
            bucket_offset_pred, bucket_offset_targets.reshape(-1, channels),
            bucket_offset_weights.reshape(-1, channels),
            avg_factor=num_total_samples * 4 * self.bbox_coder.offset_topk)
        return loss_cls, loss_bbox_cls, loss_bbox_reg

    @force_fp32
    def loss(self, cls_scores: list[Tensor], bbox_preds: list[tuple[Tensor, Tensor]],  # type: ignore[override]
             gt_bboxes: list[Tensor], gt_labels: list[Tensor] | None, img_metas: list[dict],
             gt_bboxes_ignore: list[Tensor] | None = None) -> dict | None:
        """``dict(loss_cls, loss_bbox_cls, loss_bbox_reg)``, each a list over levels."""
        featmap_sizes = [f.size()[-2:] for f in cls_scores]
        if len(featmap_sizes) != self.approx_anchor_generator.num_levels:
            raise ValueError(f"{len(featmap_sizes)} feature levels but the approx anchor "
                             f"generator has {self.approx_anchor_generator.num_levels}")
        device = cls_scores[0].device
        approxs, inside_flags = self.get_sampled_approxs(featmap_sizes, img_metas, device)
        squares = self.get_squares(featmap_sizes, img_metas, device)
        targets = self.get_bucket_targets(approxs, inside_flags, squares, gt_bboxes, img_metas,
                                          gt_bboxes_ignore_list=gt_bboxes_ignore,
                                          gt_labels_list=gt_labels)
        if targets is None:
            return None
        num_pos, num_neg = targets[6], targets[7]
        num_total_samples = num_pos + num_neg if self.sampling else num_pos
        losses_cls, losses_bbox_cls, losses_bbox_reg = multi_apply(
            self.loss_single, cls_scores, bbox_preds, *targets[:6],
            num_total_samples=num_total_samples)
        return dict(loss_cls=losses_cls, loss_bbox_cls=losses_bbox_cls,
                    loss_bbox_reg=losses_bbox_reg)

    @force_fp32
    def get_bboxes(self, cls_scores: list[Tensor], bbox_preds: list[tuple[Tensor, Tensor]],
                   score_factors: list[Tensor] | None = None, img_metas: list[dict] | None = None,
                   cfg: Any = None, rescale: bool = False, with_nms: bool = True,
                   **kwargs: Any) -> list:
        """Detections of every image; ``bbox_preds`` per level ``(bucket_cls, offsets)``."""
        if score_factors is not None:
            raise ValueError("SABLRetinaHead predicts no score factors")
        if len(cls_scores) != len(bbox_preds):
            raise ValueError("cls_scores and bbox_preds must have one entry per level each")
        featmap_sizes = [c.shape[-2:] for c in cls_scores]
        squares = self.square_anchor_generator.grid_priors(
            featmap_sizes, dtype=cls_scores[0].dtype, device=cls_scores[0].device)
        results = []
        for img_id, img_meta in enumerate(img_metas):
            results.append(self._get_bboxes_single(
                [c[img_id].detach() for c in cls_scores],
                [(p[0][img_id].detach(), p[1][img_id].detach()) for p in bbox_preds],
                [None] * len(cls_scores), squares, img_meta, cfg, rescale, with_nms))
        return results

    def _get_bboxes_single(self, cls_score_list: list[Tensor],  # type: ignore[override]
                           bbox_pred_list: list[tuple[Tensor, Tensor]],
                           score_factor_list: list[None], mlvl_priors: list[Tensor],
                           img_meta: dict, cfg: Any, rescale: bool = False,
                           with_nms: bool = True, **kwargs: Any) -> tuple[Tensor, ...]:
        """One image: per level the ``nms_pre`` best ``(square, class)`` pairs above
        ``score_thr`` are decoded; the scores are multiplied by the localization confidence
        before the class-wise NMS."""
        cfg = self.test_cfg if cfg is None else cfg
        nms_pre = cfg.get("nms_pre", -1)
        channels = self.side_num * 4
        mlvl_bboxes, mlvl_scores, mlvl_labels, mlvl_confids = [], [], [], []
        for cls_score, (bucket_cls, bucket_offsets), squares in zip(
                cls_score_list, bbox_pred_list, mlvl_priors):
            cls_score = cls_score.permute(1, 2, 0).reshape(-1, self.cls_out_channels)
            if self.use_sigmoid_cls:
                scores = cls_score.sigmoid()
            else:
                scores = cls_score.softmax(-1)[:, :-1]
            scores, labels, _, kept = filter_scores_and_topk(
                scores, cfg["score_thr"], nms_pre,
                dict(anchors=squares,
                     bucket_cls=bucket_cls.permute(1, 2, 0).reshape(-1, channels),
                     bucket_offsets=bucket_offsets.permute(1, 2, 0).reshape(-1, channels)))
            bboxes, confids = self.bbox_coder.decode(
                kept["anchors"].contiguous(),
                [kept["bucket_cls"].contiguous(), kept["bucket_offsets"].contiguous()],
                max_shape=img_meta["img_shape"])
            mlvl_bboxes.append(bboxes)
            mlvl_scores.append(scores)
            mlvl_labels.append(labels)
            mlvl_confids.append(confids)
        return self._bbox_post_process(mlvl_scores, mlvl_labels, mlvl_bboxes,
                                       img_meta["scale_factor"], cfg, rescale, with_nms,
                                       mlvl_confids)
