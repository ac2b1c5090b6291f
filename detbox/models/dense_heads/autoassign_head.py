"""``AutoAssignHead``: AutoAssign (Zhu et al., 2020), MMDetection v2's names and defaults.

FCOS's towers (conv bias on) with offset-free points; the regression is ReLU-ed and scaled by
the stride; the centerness branch is an implicit *objectness* multiplied into the class
probability. No fixed assignment: every point inside a ground truth is a candidate, weighted
by a learnt per-class Gaussian :class:`CenterPrior` of its offset from the box center and by
its confidence ``exp(3 * p_cls * p_loc)`` (positive loss: BCE of the weighted mean of
``p_cls * p_loc`` against 1); the negative loss is a focal-style BCE of ``p_cls`` weighted
down by the normalised ``1 / (1 - IoU)`` of the candidates; a center loss keeps the prior's
mass up. Test time decoding is FCOS's (objectness as the score factor).
"""

from __future__ import annotations

from typing import Any, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...ops import bbox_overlaps
from ...registry import MODELS
from ..task_modules import MlvlPointGenerator
from ..utils import force_fp32, multi_apply
from ..weight_init import bias_init_with_prob, normal_init
from .anchor_free_head import AnchorFreeHead
from .fcos_head import FCOSHead
from .head_utils import reduce_mean
from .yolof_head import levels_to_images

__all__ = ["AutoAssignHead", "CenterPrior"]

EPS = 1e-12


class CenterPrior(nn.Module):
    """Per-class Gaussian prior over a point's offset (in strides) from its box's center.

    Args:
        force_topk: give a ground truth with no point inside its ``topk`` best points.
        topk: see ``force_topk``.
        num_classes: classes (one ``mean`` and ``sigma`` pair each).
        strides: stride of each level.
    """

    def __init__(self, force_topk: bool = False, topk: int = 9, num_classes: int = 80,
                 strides: Sequence[int] = (8, 16, 32, 64, 128)) -> None:
        super().__init__()
        self.mean = nn.Parameter(torch.zeros(num_classes, 2))
        self.sigma = nn.Parameter(torch.ones(num_classes, 2))
        self.strides = strides
        self.force_topk = force_topk
        self.topk = topk

    def forward(self, anchor_points_list: list[Tensor], gt_bboxes: Tensor, labels: Tensor,
                inside_gt_bbox_mask: Tensor) -> tuple[Tensor, Tensor]:
        """``(weights Tensor[P, K], inside mask Tensor[P, K])`` for the points of all levels
        (``Tensor[P_l, 2]`` each) and the ``K`` ground truths; outside points weigh 0."""
        inside_gt_bbox_mask = inside_gt_bbox_mask.clone()
        num_gts = len(labels)
        num_points = sum(len(item) for item in anchor_points_list)
        if num_gts == 0:
            return gt_bboxes.new_zeros(num_points, num_gts), inside_gt_bbox_mask
        gt_center = torch.stack(((gt_bboxes[:, 0] + gt_bboxes[:, 2]) / 2,
                                 (gt_bboxes[:, 1] + gt_bboxes[:, 3]) / 2), dim=1)[None]
        mean = self.mean[labels][None]
        sigma = self.sigma[labels][None]
        priors = []
        for points, stride in zip(anchor_points_list, self.strides):
            points = points[:, None, :].expand(points.size(0), num_gts, 2)
            distance = ((points - gt_center) / float(stride) - mean) ** 2
            priors.append(torch.exp(-distance / (2 * sigma ** 2)).prod(dim=-1))
        weights = torch.cat(priors, dim=0)
        if self.force_topk:
            empty = torch.nonzero(inside_gt_bbox_mask.sum(0) == 0).reshape(-1)
            if empty.numel():
                top = weights[:, empty].topk(self.topk, dim=0)[1]
                inside_gt_bbox_mask[:, empty] = torch.scatter(
                    inside_gt_bbox_mask[:, empty], dim=0, index=top,
                    src=torch.ones_like(top, dtype=torch.bool))
        weights[~inside_gt_bbox_mask] = 0
        return weights, inside_gt_bbox_mask


@MODELS.register_module()
class AutoAssignHead(FCOSHead):
    """AutoAssign's head.

    Args:
        force_topk: see :class:`CenterPrior`.
        topk: see :class:`CenterPrior`.
        pos_loss_weight: weight of the positive loss.
        neg_loss_weight: weight of the negative loss.
        center_loss_weight: weight of the center-prior loss.
        *args, **kwargs: ``FCOSHead`` arguments.
    """

    def __init__(self, *args: Any, force_topk: bool = False, topk: int = 9,
                 pos_loss_weight: float = 0.25, neg_loss_weight: float = 0.75,
                 center_loss_weight: float = 0.75, **kwargs: Any) -> None:
        super().__init__(*args, conv_bias=True, **kwargs)
        self.center_prior = CenterPrior(force_topk=force_topk, topk=topk,
                                        num_classes=self.num_classes, strides=self.strides)
        self.pos_loss_weight = pos_loss_weight
        self.neg_loss_weight = neg_loss_weight
        self.center_loss_weight = center_loss_weight
        self.prior_generator = MlvlPointGenerator(self.strides, offset=0)

    def init_weights(self) -> None:
        """FCOS's init, then ``conv_cls`` bias for a prior of 0.02 and ``conv_reg`` bias 4."""
        super().init_weights()
        normal_init(self.conv_cls, std=0.01, bias=bias_init_with_prob(0.02))
        normal_init(self.conv_reg, std=0.01, bias=4.0)

    def forward_single(self, x: Tensor, scale: nn.Module, stride: Any
                       ) -> tuple[Tensor, Tensor, Tensor]:
        """``(cls_score, bbox_pred in pixels (>= 0), objectness)`` of one level."""
        cls_score, bbox_pred, _, reg_feat = AnchorFreeHead.forward_single(self, x)
        objectness = self.conv_centerness(reg_feat)
        bbox_pred = scale(bbox_pred).float().clamp(min=0) * stride
        return cls_score, bbox_pred, objectness

    def get_pos_loss_single(self, cls_score: Tensor, objectness: Tensor, reg_loss: Tensor,
                            gt_labels: Tensor, center_prior_weights: Tensor
                            ) -> tuple[Tensor]:
        """Positive loss of one image: ``Tensor[P, C]`` probabilities, ``Tensor[P, K]`` box
        losses and prior weights."""
        p_pos = (cls_score * objectness)[:, gt_labels] * torch.exp(-reg_loss)  # [P, K]
        confidence = torch.exp(p_pos * 3) * center_prior_weights
        weight = confidence / confidence.sum(0, keepdim=True).clamp(min=EPS)
        reweighted = (p_pos * weight).sum(0)
        loss = F.binary_cross_entropy(reweighted, torch.ones_like(reweighted),
                                      reduction="none")
        return (loss.sum() * self.pos_loss_weight,)

    def get_neg_loss_single(self, cls_score: Tensor, objectness: Tensor, gt_labels: Tensor,
                            ious: Tensor, inside_gt_bbox_mask: Tensor) -> tuple[Tensor]:
        """Negative loss of one image (``ious``, ``inside_gt_bbox_mask``: ``Tensor[P, K]``)."""
        joint = cls_score * objectness
        p_neg_weight = torch.ones_like(joint)
        if len(gt_labels) > 0:
            fg = torch.nonzero(inside_gt_bbox_mask.permute(1, 0), as_tuple=True)  # (gt, pt)
            temp = 1 / (1 - ious.permute(1, 0)[fg]).clamp_(EPS)
            for k in range(len(gt_labels)):
                idxs = fg[0] == k
                if idxs.any():
                    t = temp[idxs]
                    temp[idxs] = (t - t.min() + EPS) / (t.max() - t.min() + EPS)
            p_neg_weight[fg[1], gt_labels[fg[0]]] = 1 - temp
        logits = joint * p_neg_weight
        loss = logits ** 2 * F.binary_cross_entropy(logits, torch.zeros_like(logits),
                                                    reduction="none")
        return (loss.sum() * self.neg_loss_weight,)

    @force_fp32
    def loss(self, cls_scores: list[Tensor], bbox_preds: list[Tensor],
             objectnesses: list[Tensor], gt_bboxes: list[Tensor], gt_labels: list[Tensor],
             img_metas: list[dict], gt_bboxes_ignore: list[Tensor] | None = None) -> dict:
        """``dict(loss_pos, loss_neg, loss_center)``."""
        if not len(cls_scores) == len(bbox_preds) == len(objectnesses):
            raise AssertionError("AutoAssignHead.loss: one tensor per level of each output")
        all_num_gt = sum(len(item) for item in gt_bboxes)
        featmap_sizes = [f.size()[-2:] for f in cls_scores]
        points = self.prior_generator.grid_priors(featmap_sizes, dtype=bbox_preds[0].dtype,
                                                  device=bbox_preds[0].device)
        inside_list, targets_list = self.get_targets(points, gt_bboxes)
        prior_list, masks = [], []
        for bboxes, labels, inside in zip(gt_bboxes, gt_labels, inside_list):
            weights, inside = self.center_prior(points, bboxes, labels, inside)
            prior_list.append(weights)
            masks.append(inside)
        inside_list = masks
        flat_points = torch.cat(points, dim=0)
        bbox_preds = levels_to_images(bbox_preds)
        cls_scores = levels_to_images(cls_scores)
        objectnesses = levels_to_images(objectnesses)
        num_points = len(flat_points)
        reg_losses, ious_list = [], []
        for bbox_pred, targets, inside in zip(bbox_preds, targets_list, inside_list):
            num_gt = targets.size(1)
            pts = flat_points[:, None, :].expand(num_points, num_gt, 2).reshape(-1, 2)
            decoded_pred = self.bbox_coder.decode(
                pts, bbox_pred[:, None, :].expand(num_points, num_gt, 4).reshape(-1, 4))
            decoded_target = self.bbox_coder.decode(pts, targets.reshape(-1, 4))
            with torch.no_grad():
                ious = bbox_overlaps(decoded_pred, decoded_target, is_aligned=True)
                ious = ious.reshape(num_points, num_gt)
                if num_gt:
                    ious = ious.max(dim=-1, keepdim=True).values.repeat(1, num_gt)
                else:
                    ious = ious.new_zeros(num_points, num_gt)
                ious[~inside] = 0
                ious_list.append(ious)
            loss_bbox = self.loss_bbox(decoded_pred, decoded_target, weight=None,
                                       reduction_override="none")
            reg_losses.append(loss_bbox.reshape(num_points, num_gt))
        cls_scores = [item.sigmoid() for item in cls_scores]
        objectnesses = [item.sigmoid() for item in objectnesses]
        pos_losses, = multi_apply(self.get_pos_loss_single, cls_scores, objectnesses,
                                  reg_losses, gt_labels, prior_list)
        pos_avg = reduce_mean(bbox_preds[0].new_tensor(all_num_gt)).clamp_(min=1)
        pos_loss = sum(pos_losses) / pos_avg
        neg_losses, = multi_apply(self.get_neg_loss_single, cls_scores, objectnesses,
                                  gt_labels, ious_list, inside_list)
        neg_avg = reduce_mean(sum(item.data.sum() for item in prior_list)).clamp_(min=1)
        neg_loss = sum(neg_losses) / neg_avg
        center_loss = []
        for i in range(len(img_metas)):
            if inside_list[i].any():
                center_loss.append(len(gt_bboxes[i]) / prior_list[i].sum().clamp_(min=EPS))
            else:
                center_loss.append(prior_list[i].sum() * 0)
        center_loss = torch.stack(center_loss).mean() * self.center_loss_weight
        if all_num_gt == 0:
            pos_loss = bbox_preds[0].sum() * 0
            center_loss = (objectnesses[0].sum() * 0 + self.center_prior.mean.sum() * 0
                           + self.center_prior.sigma.sum() * 0)
        return dict(loss_pos=pos_loss, loss_neg=neg_loss, loss_center=center_loss)

    def get_targets(self, points: list[Tensor], gt_bboxes_list: list[Tensor]  # type: ignore[override]
                    ) -> tuple[list[Tensor], list[Tensor]]:
        """Per image: inside masks ``Tensor[P, K]`` and distances ``Tensor[P, K, 4]``."""
        concat = torch.cat(points, dim=0)
        return multi_apply(self._get_target_single, gt_bboxes_list, points=concat)

    def _get_target_single(self, gt_bboxes: Tensor, points: Tensor  # type: ignore[override]
                           ) -> tuple[Tensor, Tensor]:
        num_points, num_gts = points.size(0), gt_bboxes.size(0)
        gt = gt_bboxes[None].expand(num_points, num_gts, 4)
        xs, ys = points[:, 0, None], points[:, 1, None]
        targets = torch.stack((xs - gt[..., 0], ys - gt[..., 1], gt[..., 2] - xs,
                               gt[..., 3] - ys), -1)
        if num_gts:
            inside = targets.min(-1)[0] > 0
        else:
            inside = targets.new_zeros((num_points, num_gts), dtype=torch.bool)
        return inside, targets
