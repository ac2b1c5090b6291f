"""``FreeAnchorRetinaHead``: FreeAnchor (Zhang et al., 2019), MMDetection v2's.

RetinaNet's head and anchors with a learned matching: each ground truth takes a *bag* of its
``pre_anchor_topk`` anchors by IoU; its positive bag likelihood is a mean-max of
``cls_prob * exp(-box loss)`` over the bag (weights ``1 / (1 - p)``), trained with binary
cross-entropy (weight ``alpha``). Every anchor's class probability is pushed down unless its
decoded box overlaps a ground truth of that class (IoU above ``bbox_thr``, scaled to 1 at the
best IoU), with a focal-style negative bag loss (exponent ``gamma``, weight ``1 - alpha``).
Test-time decoding is ``AnchorHead``'s.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from ...ops import bbox_overlaps
from ...registry import MODELS
from .retina_head import RetinaHead

__all__ = ["FreeAnchorRetinaHead"]

EPS = 1e-12


@MODELS.register_module()
class FreeAnchorRetinaHead(RetinaHead):
    """FreeAnchor's head.

    Args:
        num_classes: number of object classes (background excluded).
        in_channels: channels of the input feature maps.
        stacked_convs: 3x3 convs in each tower.
        conv_cfg: conv layer config of the towers.
        norm_cfg: norm layer config of the towers.
        pre_anchor_topk: anchors in each ground truth's bag.
        bbox_thr: IoU below which a prediction does not protect its anchor from the negative
            loss.
        gamma: exponent of the negative bag loss.
        alpha: weight of the positive bag loss (``1 - alpha`` for the negative one).
        **kwargs: ``RetinaHead`` / ``AnchorHead`` arguments.
    """

    def __init__(self, num_classes: int, in_channels: int, stacked_convs: int = 4,
                 conv_cfg: dict | None = None, norm_cfg: dict | None = None,
                 pre_anchor_topk: int = 50, bbox_thr: float = 0.6, gamma: float = 2.0,
                 alpha: float = 0.5, **kwargs: Any) -> None:
        super().__init__(num_classes, in_channels, stacked_convs=stacked_convs,
                         conv_cfg=conv_cfg, norm_cfg=norm_cfg, **kwargs)
        self.pre_anchor_topk = pre_anchor_topk
        self.bbox_thr = bbox_thr
        self.gamma = gamma
        self.alpha = alpha

    def _box_prob(self, anchors: Tensor, bbox_preds: Tensor, gt_bboxes: Tensor,
                  gt_labels: Tensor) -> Tensor:
        """``Tensor[A, C]``: how much each anchor's prediction is a detection of each class
        (the IoU of its decoded box with that class's best ground truth, mapped from
        ``[bbox_thr, best IoU of the ground truth]`` to ``[0, 1]``)."""
        out = bbox_preds.new_zeros(anchors.size(0), self.cls_out_channels)
        if len(gt_bboxes) == 0:
            return out
        iou = bbox_overlaps(gt_bboxes, self.bbox_coder.decode(anchors, bbox_preds))  # [K, A]
        t1 = self.bbox_thr
        t2 = iou.max(dim=1, keepdim=True).values.clamp(min=t1 + 1e-12)
        object_prob = ((iou - t1) / (t2 - t1)).clamp(min=0, max=1)
        for label in gt_labels.unique():
            out[:, label] = object_prob[gt_labels == label].max(dim=0).values
        return out

    def loss(self, cls_scores: list[Tensor], bbox_preds: list[Tensor], gt_bboxes: list[Tensor],
             gt_labels: list[Tensor], img_metas: list[dict],
             gt_bboxes_ignore: list[Tensor] | None = None) -> dict:
        """``dict(positive_bag_loss, negative_bag_loss)``."""
        anchor_list, _ = self.get_level_anchors(cls_scores, img_metas)
        anchors = [torch.cat(a) for a in anchor_list]
        cls_scores = torch.cat([c.permute(0, 2, 3, 1).reshape(c.size(0), -1,
                                                              self.cls_out_channels)
                                for c in cls_scores], dim=1)  # [B, A, C]
        bbox_preds = torch.cat([p.permute(0, 2, 3, 1).reshape(p.size(0), -1, 4)
                                for p in bbox_preds], dim=1)  # [B, A, 4]
        cls_prob = torch.sigmoid(cls_scores)
        box_prob, positive_losses, num_pos = [], [], 0
        for anchors_, labels_, bboxes_, cls_prob_, preds_ in zip(anchors, gt_labels, gt_bboxes,
                                                                 cls_prob, bbox_preds):
            with torch.no_grad():
                box_prob.append(self._box_prob(anchors_, preds_, bboxes_, labels_))
            _, matched = torch.topk(bbox_overlaps(bboxes_, anchors_), self.pre_anchor_topk,
                                    dim=1, sorted=False)  # [K, topk]
            matched_cls_prob = torch.gather(
                cls_prob_[matched], 2,
                labels_.view(-1, 1, 1).repeat(1, self.pre_anchor_topk, 1)).squeeze(2)
            matched_anchors = anchors_[matched]
            targets = self.bbox_coder.encode(matched_anchors,
                                             bboxes_.unsqueeze(dim=1).expand_as(matched_anchors))
            loss_bbox = self.loss_bbox(preds_[matched], targets,
                                       reduction_override="none").sum(-1)
            num_pos += len(bboxes_)
            positive_losses.append(self.positive_bag_loss(matched_cls_prob,
                                                          torch.exp(-loss_bbox)))
        positive_loss = torch.cat(positive_losses).sum() / max(1, num_pos)
        negative_loss = self.negative_bag_loss(cls_prob, torch.stack(box_prob, dim=0)).sum() / max(
            1, num_pos * self.pre_anchor_topk)
        if num_pos == 0:
            positive_loss = bbox_preds.sum() * 0
        return dict(positive_bag_loss=positive_loss, negative_bag_loss=negative_loss)

    def positive_bag_loss(self, matched_cls_prob: Tensor, matched_box_prob: Tensor) -> Tensor:
        """``Tensor[K]``: ``alpha * BCE(mean-max of cls_prob * box_prob over the bag, 1)``
        of ``Tensor[K, topk]`` probabilities."""
        matched_prob = matched_cls_prob * matched_box_prob
        weight = 1 / torch.clamp(1 - matched_prob, 1e-12, None)
        weight /= weight.sum(dim=1).unsqueeze(dim=-1)
        bag_prob = (weight * matched_prob).sum(dim=1)
        return self.alpha * F.binary_cross_entropy(bag_prob, torch.ones_like(bag_prob),
                                                   reduction="none")

    def negative_bag_loss(self, cls_prob: Tensor, box_prob: Tensor) -> Tensor:
        """Element-wise ``(1 - alpha) * p^gamma * BCE(p, 0)``, ``p = cls_prob * (1 -
        box_prob)`` (``Tensor[B, A, C]``)."""
        prob = (cls_prob * (1 - box_prob)).clamp(min=EPS, max=1 - EPS)
        return (1 - self.alpha) * prob ** self.gamma * F.binary_cross_entropy(
            prob, torch.zeros_like(prob), reduction="none")
