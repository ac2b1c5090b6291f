"""``AnchorHead``: anchor-based dense head (targets, losses); RPN and RetinaNet build on it."""

from __future__ import annotations

import warnings
from typing import Any

import torch
from torch import Tensor, nn

from ...registry import MODELS, TASK_UTILS
from ..utils import anchor_inside_flags, force_fp32, images_to_levels, multi_apply, unmap
from .base_dense_head import BaseDenseHead

_NO_SAMPLING_LOSSES = ("FocalLoss", "GHMC", "QualityFocalLoss")


@MODELS.register_module()
class AnchorHead(BaseDenseHead):
    """Anchor-based head: a 1x1 classification and a 1x1 regression conv per level.

    Args:
        num_classes: number of object classes (background excluded).
        in_channels: channels of the input feature maps.
        feat_channels: channels of hidden convs (in subclasses).
        anchor_generator: ``AnchorGenerator`` config.
        bbox_coder: box coder config.
        reg_decoded_bbox: regress decoded boxes (for IoU losses) instead of deltas.
        loss_cls: classification loss config.
        loss_bbox: regression loss config.
        train_cfg: ``assigner``, ``sampler``, ``allowed_border``, ``pos_weight``.
        test_cfg: ``nms_pre``, ``min_bbox_size``, ``score_thr``, ``nms``, ``max_per_img``.
        init_cfg: initialisation config.
    """

    def __init__(self, num_classes: int, in_channels: int, feat_channels: int = 256,
                 anchor_generator: dict | None = None, bbox_coder: dict | None = None,
                 reg_decoded_bbox: bool = False, loss_cls: dict | None = None,
                 loss_bbox: dict | None = None, train_cfg: Any = None, test_cfg: Any = None,
                 init_cfg: dict | list | None = None) -> None:
        if init_cfg is None:
            init_cfg = dict(type="Normal", layer="Conv2d", std=0.01)
        super().__init__(init_cfg)
        anchor_generator = anchor_generator or dict(
            type="AnchorGenerator", scales=[8, 16, 32], ratios=[0.5, 1.0, 2.0],
            strides=[4, 8, 16, 32, 64])
        bbox_coder = bbox_coder or dict(type="DeltaXYWHBBoxCoder", clip_border=True,
                                        target_means=(0.0,) * 4, target_stds=(1.0,) * 4)
        loss_cls = loss_cls or dict(type="CrossEntropyLoss", use_sigmoid=True, loss_weight=1.0)
        loss_bbox = loss_bbox or dict(type="SmoothL1Loss", beta=1.0 / 9.0, loss_weight=1.0)
        self.in_channels = in_channels
        self.num_classes = num_classes
        self.feat_channels = feat_channels
        self.use_sigmoid_cls = loss_cls.get("use_sigmoid", False)
        self.cls_out_channels = num_classes if self.use_sigmoid_cls else num_classes + 1
        if self.cls_out_channels <= 0:
            raise ValueError(f"num_classes={num_classes} is too small")
        self.reg_decoded_bbox = reg_decoded_bbox
        self.bbox_coder = TASK_UTILS.build(bbox_coder)
        self.loss_cls = MODELS.build(loss_cls)
        self.loss_bbox = MODELS.build(loss_bbox)
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg
        self.sampling = False
        if train_cfg:
            self.assigner = TASK_UTILS.build(train_cfg["assigner"])
            sampler_cfg = train_cfg.get("sampler")
            if sampler_cfg is not None and sampler_cfg["type"].split(".")[-1] != "PseudoSampler":
                self.sampling = True
                if loss_cls["type"] in _NO_SAMPLING_LOSSES:
                    warnings.warn("Deciding whether to sample by the loss type is deprecated: "
                                  "remove the sampler when using FocalLoss-like losses",
                                  DeprecationWarning, stacklevel=2)
                    self.sampling = False
                    sampler_cfg = dict(type="PseudoSampler")
            else:
                sampler_cfg = dict(type="PseudoSampler")
            self.sampler = TASK_UTILS.build(sampler_cfg)
        self.fp16_enabled = False
        self.prior_generator = TASK_UTILS.build(anchor_generator)
        self.num_base_priors = self.prior_generator.num_base_priors[0]
        self._init_layers()

    @property
    def anchor_generator(self) -> Any:
        """Deprecated name of ``prior_generator``."""
        return self.prior_generator

    def _init_layers(self) -> None:
        self.conv_cls = nn.Conv2d(self.in_channels,
                                  self.num_base_priors * self.cls_out_channels, 1)
        self.conv_reg = nn.Conv2d(self.in_channels, self.num_base_priors * 4, 1)

    def forward_single(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return self.conv_cls(x), self.conv_reg(x)

    def forward(self, feats: tuple[Tensor, ...]) -> tuple[list[Tensor], list[Tensor]]:
        """Per level: ``cls_score: Tensor[B, A*C, H, W]``, ``bbox_pred: Tensor[B, A*4, H, W]``."""
        return multi_apply(self.forward_single, feats)

    def get_anchors(self, featmap_sizes: list, img_metas: list[dict], device: Any = "cpu"
                    ) -> tuple[list[list[Tensor]], list[list[Tensor]]]:
        """Anchors and valid flags per image per level."""
        anchors = self.prior_generator.grid_priors(featmap_sizes, device=device)
        anchor_list = [anchors for _ in img_metas]
        valid_flag_list = [self.prior_generator.valid_flags(featmap_sizes, m["pad_shape"], device)
                           for m in img_metas]
        return anchor_list, valid_flag_list

    def get_level_anchors(self, cls_scores: list[Tensor], img_metas: list[dict]
                          ) -> tuple[list[list[Tensor]], list[list[Tensor]]]:
        """Anchors and valid flags per image per level, for the levels of ``cls_scores``
        (``Tensor[B, A*C, H, W]`` each); their number must be the prior generator's."""
        featmap_sizes = [f.size()[-2:] for f in cls_scores]
        if len(featmap_sizes) != self.prior_generator.num_levels:
            raise ValueError(f"{len(featmap_sizes)} feature levels but the anchor generator has "
                             f"{self.prior_generator.num_levels}")
        return self.get_anchors(featmap_sizes, img_metas, device=cls_scores[0].device)

    def get_loss_targets(self, cls_scores: list[Tensor], gt_bboxes: list[Tensor],
                         gt_labels: list[Tensor] | None, img_metas: list[dict],
                         gt_bboxes_ignore: list[Tensor] | None = None, **kwargs: Any
                         ) -> tuple[list[list[Tensor]], tuple | None]:
        """The anchors per image per level and this head's :meth:`get_targets` of them, as
        every anchor head's ``loss`` starts (``kwargs`` go to ``get_targets``)."""
        anchor_list, valid_flag_list = self.get_level_anchors(cls_scores, img_metas)
        label_channels = self.cls_out_channels if self.use_sigmoid_cls else 1
        targets = self.get_targets(anchor_list, valid_flag_list, gt_bboxes, img_metas,
                                   gt_bboxes_ignore_list=gt_bboxes_ignore,
                                   gt_labels_list=gt_labels, label_channels=label_channels,
                                   **kwargs)
        return anchor_list, targets

    def _get_targets_single(self, flat_anchors: Tensor, valid_flags: Tensor, gt_bboxes: Tensor,
                            gt_bboxes_ignore: Tensor | None, gt_labels: Tensor | None,
                            img_meta: dict, label_channels: int = 1, unmap_outputs: bool = True
                            ) -> tuple:
        inside = anchor_inside_flags(flat_anchors, valid_flags, img_meta["img_shape"][:2],
                                     self.train_cfg["allowed_border"])
        if not inside.any():
            return (None,) * 7
        anchors = flat_anchors[inside, :]
        assign_result = self.assigner.assign(anchors, gt_bboxes, gt_bboxes_ignore,
                                             None if self.sampling else gt_labels)
        sampling_result = self.sampler.sample(assign_result, anchors, gt_bboxes)
        targets = self._fill_targets(anchors, sampling_result, gt_labels)
        if unmap_outputs:
            targets = self._unmap_targets(targets, flat_anchors.size(0), inside)
        return (*targets, sampling_result.pos_inds, sampling_result.neg_inds, sampling_result)

    def _fill_targets(self, anchors: Tensor, sampling_result: Any, gt_labels: Tensor | None
                      ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """Labels, label weights, box targets and box weights of the anchors ``Tensor[A, 4]``.

        Positives get their ground truth's label (class 0 when ``gt_labels`` is ``None``, as
        for the RPN) and encoded box; sampled negatives get weight 1 and the background label.
        """
        num_valid = anchors.shape[0]
        bbox_targets = torch.zeros_like(anchors)
        bbox_weights = torch.zeros_like(anchors)
        labels = anchors.new_full((num_valid,), self.num_classes, dtype=torch.long)
        label_weights = anchors.new_zeros(num_valid, dtype=torch.float)
        pos_inds, neg_inds = sampling_result.pos_inds, sampling_result.neg_inds
        if len(pos_inds) > 0:
            if self.reg_decoded_bbox:
                pos_targets = sampling_result.pos_gt_bboxes
            else:
                pos_targets = self.bbox_coder.encode(sampling_result.pos_bboxes,
                                                     sampling_result.pos_gt_bboxes)
            bbox_targets[pos_inds, :] = pos_targets
            bbox_weights[pos_inds, :] = 1.0
            if gt_labels is None:
                labels[pos_inds] = 0  # RPN: foreground is class 0
            else:
                labels[pos_inds] = gt_labels[sampling_result.pos_assigned_gt_inds]
            pos_weight = self.train_cfg["pos_weight"]
            label_weights[pos_inds] = 1.0 if pos_weight <= 0 else pos_weight
        if len(neg_inds) > 0:
            label_weights[neg_inds] = 1.0
        return labels, label_weights, bbox_targets, bbox_weights

    def _unmap_targets(self, targets: tuple[Tensor, ...], total: int, inside: Tensor
                       ) -> tuple[Tensor, ...]:
        """Scatter ``(labels, label_weights, bbox_targets, bbox_weights)`` back to all anchors."""
        labels, label_weights, bbox_targets, bbox_weights = targets
        return (unmap(labels, total, inside, fill=self.num_classes),
                unmap(label_weights, total, inside), unmap(bbox_targets, total, inside),
                unmap(bbox_weights, total, inside))

    def get_targets(self, anchor_list: list, valid_flag_list: list, gt_bboxes_list: list,
                    img_metas: list[dict], gt_bboxes_ignore_list: list | None = None,
                    gt_labels_list: list | None = None, label_channels: int = 1,
                    unmap_outputs: bool = True, return_sampling_results: bool = False
                    ) -> tuple | None:
        """Classification and regression targets, split per level (``Tensor[B, A_level]``)."""
        num_imgs = len(img_metas)
        num_level_anchors = [a.size(0) for a in anchor_list[0]]
        flat_anchors = [torch.cat(a) for a in anchor_list]
        flat_flags = [torch.cat(f) for f in valid_flag_list]
        if gt_bboxes_ignore_list is None:
            gt_bboxes_ignore_list = [None] * num_imgs
        if gt_labels_list is None:
            gt_labels_list = [None] * num_imgs
        results = multi_apply(self._get_targets_single, flat_anchors, flat_flags, gt_bboxes_list,
                              gt_bboxes_ignore_list, gt_labels_list, img_metas,
                              label_channels=label_channels, unmap_outputs=unmap_outputs)
        labels, label_weights, bbox_targets, bbox_weights, pos_inds, neg_inds, sampling = (
            results[:7])
        if any(lab is None for lab in labels):
            return None
        num_total_pos = sum(max(inds.numel(), 1) for inds in pos_inds)
        num_total_neg = sum(max(inds.numel(), 1) for inds in neg_inds)
        res = (images_to_levels(labels, num_level_anchors),
               images_to_levels(label_weights, num_level_anchors),
               images_to_levels(bbox_targets, num_level_anchors),
               images_to_levels(bbox_weights, num_level_anchors), num_total_pos, num_total_neg)
        if return_sampling_results:
            res = res + (sampling,)
        return res + tuple(images_to_levels(r, num_level_anchors) for r in results[7:])

    def loss_single(self, cls_score: Tensor, bbox_pred: Tensor, anchors: Tensor, labels: Tensor,
                    label_weights: Tensor, bbox_targets: Tensor, bbox_weights: Tensor,
                    num_total_samples: int) -> tuple[Tensor, Tensor]:
        """Losses of one level for the whole batch."""
        labels = labels.reshape(-1)
        label_weights = label_weights.reshape(-1)
        cls_score = cls_score.permute(0, 2, 3, 1).reshape(-1, self.cls_out_channels)
        loss_cls = self.loss_cls(cls_score, labels, label_weights, avg_factor=num_total_samples)
        bbox_targets = bbox_targets.reshape(-1, 4)
        bbox_weights = bbox_weights.reshape(-1, 4)
        bbox_pred = bbox_pred.permute(0, 2, 3, 1).reshape(-1, 4)
        if self.reg_decoded_bbox:
            bbox_pred = self.bbox_coder.decode(anchors.reshape(-1, 4), bbox_pred)
        loss_bbox = self.loss_bbox(bbox_pred, bbox_targets, bbox_weights,
                                   avg_factor=num_total_samples)
        return loss_cls, loss_bbox

    @force_fp32
    def loss(self, cls_scores: list[Tensor], bbox_preds: list[Tensor], gt_bboxes: list[Tensor],
             gt_labels: list[Tensor] | None, img_metas: list[dict],
             gt_bboxes_ignore: list[Tensor] | None = None) -> dict:
        """``dict(loss_cls=[per level], loss_bbox=[per level])``."""
        anchor_list, targets = self.get_loss_targets(cls_scores, gt_bboxes, gt_labels, img_metas,
                                                     gt_bboxes_ignore)
        if targets is None:
            return None
        labels, label_weights, bbox_targets, bbox_weights, num_pos, num_neg = targets
        num_total_samples = num_pos + num_neg if self.sampling else num_pos
        num_level_anchors = [a.size(0) for a in anchor_list[0]]
        all_anchors = images_to_levels([torch.cat(a) for a in anchor_list], num_level_anchors)
        losses_cls, losses_bbox = multi_apply(
            self.loss_single, cls_scores, bbox_preds, all_anchors, labels, label_weights,
            bbox_targets, bbox_weights, num_total_samples=num_total_samples)
        return dict(loss_cls=losses_cls, loss_bbox=losses_bbox)
