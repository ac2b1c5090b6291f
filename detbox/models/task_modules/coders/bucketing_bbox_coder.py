"""Side-aware bucketing of box sides (``type='BucketingBBoxCoder'``, SABL, Wang et al., 2020).

A base box is first enlarged by ``scale_factor`` about its center, and each of its four sides
gets ``side_num = ceil(num_buckets / 2)`` buckets of width ``w / num_buckets`` (height for
the top and bottom sides), counted inwards from that side. A target side is encoded as

- a one-hot *bucket label*: the bucket whose center is nearest to the side, and
- *offsets*: for every bucket, ``(bucket_center - side) / bucket_width`` (left, top) or the
  same towards the inside for the right and bottom sides, of which only the ``offset_topk``
  nearest buckets are trained (the farther ones only while nearer than ``offset_upperbound``).

Decoding takes, per side, the bucket with the highest softmax score and moves its center by
the predicted offset; the mean over the four sides of the best score (plus the second best
when it is the neighbouring bucket) is the *localization confidence* used for rescoring.

Every output has ``4 * side_num`` columns: left buckets, right, top, then bottom.

>>> import torch
>>> coder = BucketingBBoxCoder(num_buckets=4, scale_factor=1.0)
>>> offsets, offset_w, labels, cls_w = coder.encode(torch.tensor([[0.0, 0.0, 8.0, 8.0]]),
...                                                 torch.tensor([[1.0, 0.0, 8.0, 7.0]]))
>>> labels  # left side nearest to bucket 0; right side 0; top 0; bottom 0
tensor([[1., 0., 1., 0., 1., 0., 1., 0.]])
>>> offsets[0, :2]  # left bucket centers 1 and 3 minus x1 = 1, in bucket widths of 2
tensor([0., 1.])
>>> boxes, confidence = coder.decode(torch.tensor([[0.0, 0.0, 8.0, 8.0]]),
...                                  (labels * 10, offsets))
>>> boxes
tensor([[1., 0., 8., 7.]])
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from detbox.ops import bbox_rescale
from detbox.registry import TASK_UTILS

from .base_bbox_coder import BaseBBoxCoder

__all__ = ["BucketingBBoxCoder", "bbox2bucket", "bucket2bbox", "generate_buckets"]


def generate_buckets(proposals: Tensor, num_buckets: int, scale_factor: float = 1.0
                     ) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]:
    """Bucket sizes and bucket centers of each side of the rescaled proposals.

    Args:
        proposals: ``Tensor[n, 4]`` xyxy base boxes.
        num_buckets: buckets across a whole box (each side gets ``ceil(num_buckets / 2)``).
        scale_factor: enlarge the proposals by this about their centers first.

    Returns:
        ``(bucket_w[n], bucket_h[n], left[n, S], right[n, S], top[n, S], bottom[n, S])``:
        bucket centers of each side, ``S = ceil(num_buckets / 2)``, counted inwards.
    """
    boxes = bbox_rescale(proposals, scale_factor)
    side_num = math.ceil(num_buckets / 2)
    bucket_w = (boxes[:, 2] - boxes[:, 0]) / num_buckets
    bucket_h = (boxes[:, 3] - boxes[:, 1]) / num_buckets
    steps = 0.5 + torch.arange(side_num, device=boxes.device, dtype=boxes.dtype)  # [S]
    left = boxes[:, 0:1] + steps[None, :] * bucket_w[:, None]  # [n, S]
    right = boxes[:, 2:3] - steps[None, :] * bucket_w[:, None]
    top = boxes[:, 1:2] + steps[None, :] * bucket_h[:, None]
    bottom = boxes[:, 3:4] - steps[None, :] * bucket_h[:, None]
    return bucket_w, bucket_h, left, right, top, bottom


def bbox2bucket(proposals: Tensor, gt: Tensor, num_buckets: int, scale_factor: float,
                offset_topk: int = 2, offset_upperbound: float = 1.0,
                cls_ignore_neighbor: bool = True) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Bucket labels and fine offsets that move ``proposals`` onto ``gt``.

    Args:
        proposals: ``Tensor[n, 4]`` xyxy base boxes.
        gt: ``Tensor[n, 4]`` xyxy targets, one per proposal.
        num_buckets: buckets across a box.
        scale_factor: proposal enlargement before bucketing.
        offset_topk: the nearest buckets of each side whose offsets are trained.
        offset_upperbound: buckets after the nearest are trained only when their
            ``|offset|`` is below this.
        cls_ignore_neighbor: give weight 0 to the buckets other than the label that lie
            within one bucket width of the side (else every bucket has weight 1).

    Returns:
        ``(offsets, offset_weights, bucket_labels, bucket_cls_weights)``, each
        ``Tensor[n, 4 * S]`` (sides left, right, top, bottom, ``S`` buckets each).
    """
    if proposals.size() != gt.size() or proposals.size(-1) != 4:
        raise AssertionError(f"bbox2bucket: proposals {tuple(proposals.shape)} and gts "
                             f"{tuple(gt.shape)} must both be [n, 4]")
    proposals, gt = proposals.float(), gt.float()
    bucket_w, bucket_h, left, right, top, bottom = generate_buckets(proposals, num_buckets,
                                                                    scale_factor)
    side_offsets = [(left - gt[:, 0:1]) / bucket_w[:, None],
                    (right - gt[:, 2:3]) / bucket_w[:, None],
                    (top - gt[:, 1:2]) / bucket_h[:, None],
                    (bottom - gt[:, 3:4]) / bucket_h[:, None]]  # 4 x [n, S]
    rows = torch.arange(proposals.size(0), device=proposals.device)
    offset_weights, nearest = [], []
    for offsets in side_offsets:
        dist, order = offsets.abs().topk(offset_topk, dim=1, largest=False, sorted=True)
        weights = torch.zeros_like(offsets)
        weights[rows, order[:, 0]] = 1.0
        for k in range(1, offset_topk):
            weights[rows, order[:, k]] = (dist[:, k] < offset_upperbound).float()
        offset_weights.append(weights)
        nearest.append(order[:, 0])
    side_num = left.size(1)
    labels = torch.stack(nearest, dim=-1)  # [n, 4]
    bucket_labels = F.one_hot(labels.view(-1), side_num).view(labels.size(0), -1).float()
    offsets = torch.cat(side_offsets, dim=-1)
    if cls_ignore_neighbor:
        near = offsets.abs() < 1
        cls_weights = (~(near & (bucket_labels == 0))).float()
    else:
        cls_weights = torch.ones_like(offsets)
    return offsets, torch.cat(offset_weights, dim=-1), bucket_labels, cls_weights


def bucket2bbox(proposals: Tensor, cls_preds: Tensor, offset_preds: Tensor, num_buckets: int,
                scale_factor: float = 1.0, max_shape: Sequence[int] | None = None,
                clip_border: bool = True) -> tuple[Tensor, Tensor]:
    """Boxes from bucket scores and offsets, and their localization confidence.

    Args:
        proposals: ``Tensor[n, 4]`` xyxy base boxes.
        cls_preds: ``Tensor[n, 4 * S]`` bucket logits (softmax over each side's ``S``).
        offset_preds: ``Tensor[n, 4 * S]`` offsets in bucket widths.
        num_buckets: buckets across a box.
        scale_factor: proposal enlargement before bucketing.
        max_shape: ``(H, W, ...)``: clip the sides into ``[0, W - 1]`` / ``[0, H - 1]``.
        clip_border: clip when ``max_shape`` is given.

    Returns:
        ``(bboxes[n, 4], loc_confidence[n])``.
    """
    side_num = math.ceil(num_buckets / 2)
    scores = F.softmax(cls_preds.view(-1, side_num), dim=1)  # [n * 4, S]
    score_topk, score_label = scores.topk(2, dim=1, largest=True, sorted=True)
    boxes = bbox_rescale(proposals, scale_factor)
    bucket_w = (boxes[:, 2] - boxes[:, 0]) / num_buckets
    bucket_h = (boxes[:, 3] - boxes[:, 1]) / num_buckets
    best = score_label[:, 0].view(-1, 4)  # [n, 4] best bucket of left, right, top, bottom
    offsets = offset_preds.view(-1, 4, side_num)
    best_offsets = offsets.gather(2, best[:, :, None]).squeeze(2)  # [n, 4]
    centers = 0.5 + best.to(boxes.dtype)
    x1 = boxes[:, 0] + centers[:, 0] * bucket_w - best_offsets[:, 0] * bucket_w
    x2 = boxes[:, 2] - centers[:, 1] * bucket_w - best_offsets[:, 1] * bucket_w
    y1 = boxes[:, 1] + centers[:, 2] * bucket_h - best_offsets[:, 2] * bucket_h
    y2 = boxes[:, 3] - centers[:, 3] * bucket_h - best_offsets[:, 3] * bucket_h
    if clip_border and max_shape is not None:
        x1 = x1.clamp(min=0, max=max_shape[1] - 1)
        y1 = y1.clamp(min=0, max=max_shape[0] - 1)
        x2 = x2.clamp(min=0, max=max_shape[1] - 1)
        y2 = y2.clamp(min=0, max=max_shape[0] - 1)
    bboxes = torch.stack([x1, y1, x2, y2], dim=-1)
    neighbours = (score_label[:, 0] - score_label[:, 1]).abs() == 1
    confidence = score_topk[:, 0] + score_topk[:, 1] * neighbours.float()  # [n * 4]
    return bboxes, confidence.view(-1, 4).mean(dim=1)


@TASK_UTILS.register_module()
class BucketingBBoxCoder(BaseBBoxCoder):
    """Bucketing box coder of Side-Aware Boundary Localization.

    Args:
        num_buckets: buckets across a box.
        scale_factor: enlargement of the base boxes before bucketing.
        offset_topk: nearest buckets per side with an offset target.
        offset_upperbound: largest ``|offset|`` trained for buckets after the nearest.
        cls_ignore_neighbor: ignore the other buckets within one width of the side in the
            bucket classification.
        clip_border: clip decoded boxes to ``max_shape``.
    """

    def __init__(self, num_buckets: int, scale_factor: float, offset_topk: int = 2,
                 offset_upperbound: float = 1.0, cls_ignore_neighbor: bool = True,
                 clip_border: bool = True) -> None:
        super().__init__()
        self.num_buckets = num_buckets
        self.scale_factor = scale_factor
        self.offset_topk = offset_topk
        self.offset_upperbound = offset_upperbound
        self.cls_ignore_neighbor = cls_ignore_neighbor
        self.clip_border = clip_border

    def encode(self, bboxes: Tensor, gt_bboxes: Tensor  # type: ignore[override]
               ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """``(offsets, offset_weights, bucket_labels, bucket_cls_weights)`` of
        :func:`bbox2bucket` for ``bboxes, gt_bboxes: Tensor[n, 4]``."""
        return bbox2bucket(bboxes, gt_bboxes, self.num_buckets, self.scale_factor,
                           self.offset_topk, self.offset_upperbound, self.cls_ignore_neighbor)

    def decode(self, bboxes: Tensor, pred_bboxes: Sequence[Tensor],  # type: ignore[override]
               max_shape: Sequence[int] | None = None) -> tuple[Tensor, Tensor]:
        """``(boxes[n, 4], loc_confidence[n])`` from ``pred_bboxes = (cls_preds,
        offset_preds)``, each ``Tensor[n, 4 * S]``."""
        if len(pred_bboxes) != 2:
            raise AssertionError("BucketingBBoxCoder.decode: pred_bboxes must be "
                                 "(bucket cls preds, bucket offset preds)")
        cls_preds, offset_preds = pred_bboxes
        if cls_preds.size(0) != bboxes.size(0) or offset_preds.size(0) != bboxes.size(0):
            raise AssertionError(f"BucketingBBoxCoder.decode: {bboxes.size(0)} boxes but "
                                 f"{cls_preds.size(0)} / {offset_preds.size(0)} predictions")
        return bucket2bbox(bboxes, cls_preds, offset_preds, self.num_buckets, self.scale_factor,
                           max_shape, self.clip_border)
