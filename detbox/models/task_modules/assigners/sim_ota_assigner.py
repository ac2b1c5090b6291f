"""SimOTA (``type='SimOTAAssigner'``; YOLOX, Ge et al., 2021): dynamic-k matching on a cost.

For one image:

1. a prior (``cx, cy, stride_w, stride_h``) is a *candidate* when its center lies inside some
   ground truth or inside the square of half-size ``center_radius * stride`` around some
   ground truth's center;
2. for every candidate and ground truth, ``cost = cls_weight * BCE(sqrt(score), one_hot) +
   iou_weight * -log(IoU + eps)``, plus ``1e5`` unless the prior's center is inside both
   the box and its center square;
3. each ground truth takes its ``k`` cheapest candidates, ``k`` = the sum of its
   ``candidate_topk`` best IoUs (truncated, at least 1);
4. a candidate taken by several ground truths keeps the cheapest.

Positives get ``gt_inds = j + 1`` and ``max_overlaps`` = the IoU of their prediction with
ground truth ``j``; everything else is background (``gt_inds = 0``).

>>> assigner = SimOTAAssigner(center_radius=2.5)
>>> priors = torch.tensor([[4.0, 4, 8, 8], [12, 4, 8, 8], [40, 40, 8, 8]])
>>> preds = torch.tensor([[0.0, 0, 8, 8], [8, 0, 16, 8], [36, 36, 44, 44]])
>>> scores = torch.full((3, 2), 0.5)
>>> res = assigner.assign(scores, priors, preds, torch.tensor([[0.0, 0, 9, 8]]),
...                       torch.tensor([1]))
>>> res.gt_inds, res.labels
(tensor([1, 0, 0]), tensor([ 1, -1, -1]))
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from detbox.ops import bbox_overlaps
from detbox.registry import TASK_UTILS

from .assign_result import AssignResult
from .base_assigner import BaseAssigner

__all__ = ["SimOTAAssigner", "priors_in_gts_and_centers"]

INF = 100000.0


def priors_in_gts_and_centers(priors: Tensor, gt_bboxes: Tensor, center_radius: float
                              ) -> tuple[Tensor, Tensor]:
    """Which priors are candidates of SimOTA.

    Args:
        priors: ``Tensor[P, 4]`` as ``cx, cy, stride_w, stride_h``.
        gt_bboxes: ``Tensor[G, 4]`` xyxy.
        center_radius: half-size of the center square, in strides.

    Returns:
        ``(candidate: Tensor[P] bool`` - inside some box or some center square,
        ``in_both: Tensor[C, G] bool`` - for the ``C`` candidates, inside box *and* square).
    """
    cx, cy = priors[:, 0:1], priors[:, 1:2]  # [P, 1]
    sx, sy = priors[:, 2:3], priors[:, 3:4]
    in_box = torch.stack([cx - gt_bboxes[:, 0], cy - gt_bboxes[:, 1],
                          gt_bboxes[:, 2] - cx, gt_bboxes[:, 3] - cy], 1).min(1).values > 0
    gt_cx = (gt_bboxes[:, 0] + gt_bboxes[:, 2]) / 2.0  # [G]
    gt_cy = (gt_bboxes[:, 1] + gt_bboxes[:, 3]) / 2.0
    in_ctr = torch.stack([cx - (gt_cx - center_radius * sx), cy - (gt_cy - center_radius * sy),
                          (gt_cx + center_radius * sx) - cx, (gt_cy + center_radius * sy) - cy],
                         1).min(1).values > 0  # [P, G]
    candidate = in_box.any(1) | in_ctr.any(1)
    return candidate, in_box[candidate] & in_ctr[candidate]


@TASK_UTILS.register_module()
class SimOTAAssigner(BaseAssigner):
    """SimOTA assigner.

    Args:
        center_radius: half-size of the center square around each ground truth, in strides.
        candidate_topk: best IoUs summed into each ground truth's ``k``.
        iou_weight: weight of the IoU cost.
        cls_weight: weight of the classification cost.
    """

    def __init__(self, center_radius: float = 2.5, candidate_topk: int = 10,
                 iou_weight: float = 3.0, cls_weight: float = 1.0) -> None:
        self.center_radius = center_radius
        self.candidate_topk = candidate_topk
        self.iou_weight = iou_weight
        self.cls_weight = cls_weight

    def assign(self, pred_scores: Tensor, priors: Tensor, decoded_bboxes: Tensor,
               gt_bboxes: Tensor, gt_labels: Tensor, gt_bboxes_ignore: Tensor | None = None,
               eps: float = 1e-7) -> AssignResult:
        """Assign the priors of one image.

        Args:
            pred_scores: ``Tensor[P, C]`` class probabilities (YOLOX: times objectness).
            priors: ``Tensor[P, 4]`` as ``cx, cy, stride_w, stride_h``.
            decoded_bboxes: ``Tensor[P, 4]`` predicted boxes, xyxy.
            gt_bboxes: ``Tensor[G, 4]`` xyxy.
            gt_labels: ``Tensor[G]`` int64.
            gt_bboxes_ignore: not supported (ignored, as in MMDetection).
            eps: added to the IoU inside the log.
        """
        num_gt, num_priors = gt_bboxes.size(0), decoded_bboxes.size(0)
        gt_inds = decoded_bboxes.new_zeros((num_priors,), dtype=torch.long)
        valid, in_both = priors_in_gts_and_centers(priors, gt_bboxes, self.center_radius)
        valid_boxes, valid_scores = decoded_bboxes[valid], pred_scores[valid]
        num_valid = valid_boxes.size(0)
        if num_gt == 0 or num_priors == 0 or num_valid == 0:
            labels = decoded_bboxes.new_full((num_priors,), -1, dtype=torch.long)
            return AssignResult(num_gt, gt_inds, decoded_bboxes.new_zeros((num_priors,)),
                                labels=None if gt_labels is None else labels)
        ious = bbox_overlaps(valid_boxes, gt_bboxes)  # [V, G]
        iou_cost = -torch.log(ious + eps)
        onehot = F.one_hot(gt_labels.to(torch.int64), pred_scores.shape[-1]).float()
        onehot = onehot.unsqueeze(0).repeat(num_valid, 1, 1)  # [V, G, C]
        probs = valid_scores.unsqueeze(1).repeat(1, num_gt, 1)  # [V, G, C]
        cls_cost = F.binary_cross_entropy(probs.to(torch.float32).sqrt_(), onehot,
                                          reduction="none").sum(-1).to(probs.dtype)
        cost = cls_cost * self.cls_weight + iou_cost * self.iou_weight + (~in_both) * INF
        matched_ious, matched_gts, fg = self.dynamic_k_matching(cost, ious, num_gt)
        valid[valid.clone()] = fg
        gt_inds[valid] = matched_gts + 1
        labels = gt_inds.new_full((num_priors,), -1)
        labels[valid] = gt_labels[matched_gts].long()
        max_overlaps = gt_inds.new_full((num_priors,), -INF, dtype=torch.float32)
        max_overlaps[valid] = matched_ious
        return AssignResult(num_gt, gt_inds, max_overlaps, labels=labels)

    def dynamic_k_matching(self, cost: Tensor, ious: Tensor, num_gt: int
                           ) -> tuple[Tensor, Tensor, Tensor]:
        """Steps 3-4 on the candidates.

        Args:
            cost: ``Tensor[V, G]``.
            ious: ``Tensor[V, G]``.
            num_gt: ``G``.

        Returns:
            ``(ious of the matched candidates Tensor[M], their ground truths Tensor[M],
            matched mask over the candidates Tensor[V] bool)``.
        """
        matching = torch.zeros_like(cost, dtype=torch.uint8)
        topk = min(self.candidate_topk, ious.size(0))
        dynamic_ks = torch.clamp(torch.topk(ious, topk, dim=0).values.sum(0).int(), min=1)
        for j in range(num_gt):
            _, idx = torch.topk(cost[:, j], k=int(dynamic_ks[j]), largest=False)
            matching[:, j][idx] = 1
        shared = matching.sum(1) > 1
        if shared.sum() > 0:
            cheapest = torch.min(cost[shared, :], dim=1).indices
            matching[shared, :] *= 0
            matching[shared, cheapest] = 1
        fg = matching.sum(1) > 0
        matched_gts = matching[fg, :].argmax(1)
        matched_ious = (matching * ious).sum(1)[fg]
        return matched_ious, matched_gts, fg
