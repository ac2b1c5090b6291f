"""``GFLHead``: Generalized Focal Loss (Li et al., 2020), MMDetection v2's names and defaults.

ATSS's towers and targets with two changes in what is predicted:

- ``gfl_cls`` gives one joint score per class, classification times localisation quality,
  trained by :class:`QualityFocalLoss` against the IoU of the decoded box with its target;
- ``gfl_reg`` gives, for each side, a discrete distribution over ``{0, ..., reg_max}`` (in
  units of the level's stride); the distance is its expectation (:class:`Integral`), trained by
  GIoU on the decoded box and :class:`DistributionFocalLoss` on the distribution.

Box and DFL losses are weighted by the predicted score of each positive (detached) and averaged
over the sum of those weights. At test time the score is ``sigmoid(gfl_cls)``.

>>> head = GFLHead(num_classes=2, in_channels=8, feat_channels=8, stacked_convs=0, reg_max=4,
...                anchor_generator=dict(type='AnchorGenerator', ratios=[1.0],
...                    octave_base_scale=8, scales_per_octave=1, strides=[8]))
>>> cls, reg = head([torch.zeros(1, 8, 4, 4)])
>>> tuple(cls[0].shape), tuple(reg[0].shape)
((1, 2, 4, 4), (1, 20, 4, 4))
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...ops import bbox_overlaps
from ...registry import MODELS
from ..layers import Scale
from ..utils import force_fp32, multi_apply
from .atss_head import ATSSHead
from .head_utils import conv_towers, filter_scores_and_topk, mean_count, reduce_mean, run_towers

__all__ = ["GFLHead", "Integral", "anchor_center"]


def anchor_center(anchors: Tensor) -> Tensor:
    """Centers ``Tensor[..., 2]`` (x, y) of ``xyxy`` boxes ``Tensor[..., 4]``."""
    return torch.stack([(anchors[..., 2] + anchors[..., 0]) / 2,
                        (anchors[..., 3] + anchors[..., 1]) / 2], dim=-1)


class Integral(nn.Module):
    """Expectation of a discrete distribution over ``{0, ..., reg_max}`` (buffer ``project``).

    ``forward(x: Tensor[..., 4 * (reg_max + 1)]) -> Tensor[N, 4]``: softmax per side, then
    ``sum_i P(i) * i``.
    """

    def __init__(self, reg_max: int = 16) -> None:
        super().__init__()
        self.reg_max = reg_max
        self.register_buffer("project", torch.linspace(0, reg_max, reg_max + 1))

    def forward(self, x: Tensor) -> Tensor:
        x = F.softmax(x.reshape(-1, self.reg_max + 1), dim=1)
        return F.linear(x, self.project.type_as(x)).reshape(-1, 4)


@MODELS.register_module()
class GFLHead(ATSSHead):
    """GFL head.

    Args:
        num_classes: number of object classes (background excluded).
        in_channels: channels of the input feature maps.
        stacked_convs: 3x3 convs in each tower.
        conv_cfg: conv layer config of the towers.
        norm_cfg: norm of the towers (default GN, 32 groups).
        loss_dfl: distribution focal loss config.
        bbox_coder: coder of point-to-side distances (``DistancePointBBoxCoder``).
        reg_max: largest value of the discrete distance set.
        init_cfg: initialisation (normal std 0.01; ``gfl_cls`` bias for prior 0.01).
        **kwargs: ``AnchorHead`` arguments (``feat_channels``, ``anchor_generator``,
            ``loss_cls`` (QFL), ``loss_bbox`` (GIoU), ``train_cfg``, ``test_cfg``);
            ``reg_decoded_bbox`` is accepted and unused (targets are boxes, as in MMDetection).
    """

    def __init__(self, num_classes: int, in_channels: int, stacked_convs: int = 4,
                 conv_cfg: dict | None = None,
                 norm_cfg: dict | None = dict(  # noqa: B006 (never mutated)
                     type="GN", num_groups=32, requires_grad=True),
                 loss_dfl: dict | None = None, bbox_coder: dict | None = None,
                 reg_max: int = 16, init_cfg: dict | list | None = None,
                 **kwargs: Any) -> None:
        self.reg_max = reg_max
        if init_cfg is None:
            init_cfg = dict(type="Normal", layer="Conv2d", std=0.01,
                            override=dict(type="Normal", name="gfl_cls", std=0.01,
                                          bias_prob=0.01))
        kwargs.pop("reg_decoded_bbox", None)
        extra = sorted({"loss_centerness", "pred_kernel_size"} & set(kwargs))
        if extra:  # ATSSHead's arguments, which MMDetection's GFLHead does not take
            raise TypeError(f"GFLHead got unexpected argument(s) {', '.join(extra)}")
        super().__init__(num_classes, in_channels, stacked_convs=stacked_convs,
                         conv_cfg=conv_cfg, norm_cfg=norm_cfg, reg_decoded_bbox=True,
                         bbox_coder=bbox_coder or dict(type="DistancePointBBoxCoder"),
                         init_cfg=init_cfg, **kwargs)
        self.integral = Integral(self.reg_max)
        self.loss_dfl = MODELS.build(
            loss_dfl or dict(type="DistributionFocalLoss", loss_weight=0.25))

    def _init_layers(self) -> None:
        self.relu = nn.ReLU(inplace=True)
        self.cls_convs, self.reg_convs = conv_towers(self.stacked_convs, self.in_channels,
                                                     self.feat_channels, self.conv_cfg,
                                                     self.norm_cfg)
        if self.num_base_priors != 1:
            raise AssertionError("GFLHead is the anchor-free version: one anchor per location")
        self.gfl_cls = nn.Conv2d(self.feat_channels, self.cls_out_channels, 3, padding=1)
        self.gfl_reg = nn.Conv2d(self.feat_channels, 4 * (self.reg_max + 1), 3, padding=1)
        self.scales = nn.ModuleList([Scale(1.0) for _ in self.prior_generator.strides])

    def forward(self, feats: tuple[Tensor, ...]) -> tuple[list[Tensor], list[Tensor]]:
        """Per level: ``cls_score [B, C, H, W]``, ``bbox_pred [B, 4 * (reg_max + 1), H, W]``."""
        return multi_apply(self.forward_single, feats, self.scales)

    def forward_single(self, x: Tensor, scale: nn.Module) -> tuple[Tensor, Tensor]:
        cls_feat, reg_feat = run_towers(x, self.cls_convs, self.reg_convs)
        return self.gfl_cls(cls_feat), scale(self.gfl_reg(reg_feat)).float()

    def anchor_center(self, anchors: Tensor) -> Tensor:
        """See :func:`anchor_center`."""
        return anchor_center(anchors)

    def loss_single(self, anchors: Tensor, cls_score: Tensor, bbox_pred: Tensor,
                    labels: Tensor, label_weights: Tensor, bbox_targets: Tensor,
                    stride: tuple[int, int], num_total_samples: float
                    ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """QFL, GIoU and DFL of one level for the batch, and the sum of the box weights.

        Boxes are compared in units of the level's stride.
        """
        if stride[0] != stride[1]:
            raise AssertionError("GFLHead: h stride is not equal to w stride")
        anchors = anchors.reshape(-1, 4)
        cls_score = cls_score.permute(0, 2, 3, 1).reshape(-1, self.cls_out_channels)
        bbox_pred = bbox_pred.permute(0, 2, 3, 1).reshape(-1, 4 * (self.reg_max + 1))
        bbox_targets = bbox_targets.reshape(-1, 4)
        labels = labels.reshape(-1)
        label_weights = label_weights.reshape(-1)
        pos_inds = ((labels >= 0) & (labels < self.num_classes)).nonzero().squeeze(1)
        score = label_weights.new_zeros(labels.shape)
        if len(pos_inds) > 0:
            pos_bbox_pred = bbox_pred[pos_inds]
            pos_centers = anchor_center(anchors[pos_inds]) / stride[0]
            weight_targets = cls_score.detach().sigmoid().max(dim=1)[0][pos_inds]
            pos_decoded = self.bbox_coder.decode(pos_centers, self.integral(pos_bbox_pred))
            pos_targets = bbox_targets[pos_inds] / stride[0]
            score[pos_inds] = bbox_overlaps(pos_decoded.detach(), pos_targets, is_aligned=True)
            pred_corners = pos_bbox_pred.reshape(-1, self.reg_max + 1)
            target_corners = self.bbox_coder.encode(pos_centers, pos_targets,
                                                    self.reg_max).reshape(-1)
            loss_bbox = self.loss_bbox(pos_decoded, pos_targets, weight=weight_targets,
                                       avg_factor=1.0)
            loss_dfl = self.loss_dfl(pred_corners, target_corners,
                                     weight=weight_targets[:, None].expand(-1, 4).reshape(-1),
                                     avg_factor=4.0)
        else:
            loss_bbox = bbox_pred.sum() * 0
            loss_dfl = bbox_pred.sum() * 0
            weight_targets = bbox_pred.new_tensor(0)
        loss_cls = self.loss_cls(cls_score, (labels, score), weight=label_weights,
                                 avg_factor=num_total_samples)
        return loss_cls, loss_bbox, loss_dfl, weight_targets.sum()

    @force_fp32
    def loss(self, cls_scores: list[Tensor], bbox_preds: list[Tensor], gt_bboxes: list[Tensor],
             gt_labels: list[Tensor], img_metas: list[dict],
             gt_bboxes_ignore: list[Tensor] | None = None) -> dict | None:
        """``dict(loss_cls=[per level], loss_bbox=[per level], loss_dfl=[per level])``."""
        device = cls_scores[0].device
        anchor_list, targets = self.get_loss_targets(cls_scores, gt_bboxes, gt_labels, img_metas,
                                                     gt_bboxes_ignore)
        if targets is None:
            return None
        anchors, labels, label_weights, bbox_targets, _, num_total_pos, _ = targets
        num_total_samples = mean_count(num_total_pos, device)
        losses_cls, losses_bbox, losses_dfl, avg_factor = multi_apply(
            self.loss_single, anchors, cls_scores, bbox_preds, labels, label_weights,
            bbox_targets, self.prior_generator.strides, num_total_samples=num_total_samples)
        avg_factor = reduce_mean(sum(avg_factor)).clamp_(min=1).item()
        return dict(loss_cls=losses_cls,
                    loss_bbox=[loss / avg_factor for loss in losses_bbox],
                    loss_dfl=[loss / avg_factor for loss in losses_dfl])

    def _get_bboxes_single(self, cls_score_list: list[Tensor], bbox_pred_list: list[Tensor],
                           score_factor_list: list[Tensor | None], mlvl_priors: list[Tensor],
                           img_meta: dict, cfg: Any, rescale: bool = False,
                           with_nms: bool = True, **kwargs: Any) -> tuple[Tensor, ...]:
        """Detections of one image: per level the distances are the distributions'
        expectations times the stride, decoded from the anchor centers; then as
        ``BaseDenseHead._get_bboxes_single`` (``score_thr``, ``nms_pre``, NMS)."""
        cfg = self.test_cfg if cfg is None else cfg
        img_shape = img_meta["img_shape"]
        nms_pre = cfg.get("nms_pre", -1)
        mlvl_bboxes, mlvl_scores, mlvl_labels = [], [], []
        for cls_score, bbox_pred, stride, priors in zip(
                cls_score_list, bbox_pred_list, self.prior_generator.strides, mlvl_priors):
            if cls_score.size()[-2:] != bbox_pred.size()[-2:] or stride[0] != stride[1]:
                raise AssertionError("GFLHead: cls_score and bbox_pred sizes differ, or the "
                                     "stride is not square")
            bbox_pred = self.integral(bbox_pred.permute(1, 2, 0)) * stride[0]
            scores = cls_score.permute(1, 2, 0).reshape(-1, self.cls_out_channels).sigmoid()
            scores, labels, _, selected = filter_scores_and_topk(
                scores, cfg["score_thr"], nms_pre, dict(bbox_pred=bbox_pred, priors=priors))
            mlvl_bboxes.append(self.bbox_coder.decode(anchor_center(selected["priors"]),
                                                      selected["bbox_pred"],
                                                      max_shape=img_shape))
            mlvl_scores.append(scores)
            mlvl_labels.append(labels)
        return self._bbox_post_process(mlvl_scores, mlvl_labels, mlvl_bboxes,
                                       img_meta["scale_factor"], cfg, rescale, with_nms)

