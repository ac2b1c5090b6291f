"""FSAF's assignment by center regions (``type='CenterRegionAssigner'``), MMDetection v2's.

Each ground truth has a *core* (the box shrunk to ``pos_scale`` of its size around its center)
and a *shadow* (shrunk to ``neg_scale``). A prior whose center lies inside a ground truth and
whose IoF with that ground truth's core exceeds ``min_pos_iof`` is a positive of it (of the
smallest such ground truth when several qualify); priors overlapping a shadow (and not a
core) are *shadowed*: the head gives them weight 0 for that ground truth's class. Everything
else is negative (0). Priors whose center lies in an ignore region (scaled by
``ignore_gt_scale``) are ignored (-1).

The result carries ``shadowed_labels`` (``Tensor[S, 2]`` pairs ``(prior index, class)``) as
an extra property.

>>> assigner = CenterRegionAssigner(0.2, 0.2)
>>> priors = torch.tensor([[0.0, 0.0, 10.0, 10.0], [10.0, 10.0, 20.0, 20.0]])
>>> assigner.assign(priors, torch.tensor([[0.0, 0.0, 10.0, 10.0]])).gt_inds
tensor([1, 0])
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from detbox.registry import TASK_UTILS

from .assign_result import AssignResult
from .base_assigner import BaseAssigner

__all__ = ["CenterRegionAssigner", "scale_boxes", "is_located_in", "bboxes_area"]


def scale_boxes(bboxes: Tensor, scale: float) -> Tensor:
    """``Tensor[M, 4]`` xyxy boxes scaled by ``scale`` about their centers."""
    if bboxes.size(1) != 4:
        raise AssertionError(f"scale_boxes: boxes must be [M, 4], got {tuple(bboxes.shape)}")
    half = (bboxes[:, 2:4] - bboxes[:, 0:2]) * 0.5 * scale  # [M, 2]
    center = (bboxes[:, 2:4] + bboxes[:, 0:2]) * 0.5
    return torch.cat([center - half, center + half], dim=1)


def is_located_in(points: Tensor, bboxes: Tensor) -> Tensor:
    """``Tensor[M, N]`` bool: point ``i`` (``[M, 2]``) strictly inside box ``j`` (``[N, 4]``)."""
    if points.size(1) != 2 or bboxes.size(1) != 4:
        raise AssertionError(f"is_located_in: points {tuple(points.shape)} must be [M, 2] and "
                             f"boxes {tuple(bboxes.shape)} [N, 4]")
    x, y = points[:, 0:1], points[:, 1:2]
    return ((x > bboxes[None, :, 0]) & (x < bboxes[None, :, 2])
            & (y > bboxes[None, :, 1]) & (y < bboxes[None, :, 3]))


def bboxes_area(bboxes: Tensor) -> Tensor:
    """``Tensor[M]`` areas of ``Tensor[M, 4]`` xyxy boxes."""
    if bboxes.size(1) != 4:
        raise AssertionError(f"bboxes_area: boxes must be [M, 4], got {tuple(bboxes.shape)}")
    return (bboxes[:, 2] - bboxes[:, 0]) * (bboxes[:, 3] - bboxes[:, 1])


@TASK_UTILS.register_module()
class CenterRegionAssigner(BaseAssigner):
    """Positives in the center region of a ground truth, shadowed priors around it.

    Args:
        pos_scale: relative size of the core region (positives).
        neg_scale: relative size of the shadow region (shadowed beyond the core).
        min_pos_iof: IoF of a prior with a core (or shadow) above which it counts as inside.
        ignore_gt_scale: relative size of ignore regions.
        foreground_dominate: a prior that is positive for a class and shadowed by another
            ground truth of the same class stays positive (else it becomes a negative with
            that class's weight 0).
        iou_calculator: IoU calculator config (``BboxOverlaps2D``) or callable.
    """

    def __init__(self, pos_scale: float, neg_scale: float, min_pos_iof: float = 1e-2,
                 ignore_gt_scale: float = 0.5, foreground_dominate: bool = False,
                 iou_calculator: dict | Callable[..., Tensor] | None = None) -> None:
        self.pos_scale = pos_scale
        self.neg_scale = neg_scale
        self.min_pos_iof = min_pos_iof
        self.ignore_gt_scale = ignore_gt_scale
        self.foreground_dominate = foreground_dominate
        if iou_calculator is None:
            iou_calculator = dict(type="BboxOverlaps2D")
        self.iou_calculator = (TASK_UTILS.build(iou_calculator)
                               if isinstance(iou_calculator, dict) else iou_calculator)

    def get_gt_priorities(self, gt_bboxes: Tensor) -> Tensor:
        """``Tensor[K]`` priority of each ground truth: the smaller, the higher."""
        _, sort_idx = bboxes_area(gt_bboxes).sort(descending=True)
        return sort_idx.argsort()

    def assign(self, bboxes: Tensor, gt_bboxes: Tensor, gt_bboxes_ignore: Tensor | None = None,
               gt_labels: Tensor | None = None) -> AssignResult:
        """Assign priors ``Tensor[N, 4]`` to ground truths ``Tensor[K, 4]``.

        Returns:
            ``AssignResult`` (``gt_inds`` 1-based, 0 negative, -1 ignored; ``max_overlaps``
            ``None``) with the extra property ``shadowed_labels`` (``Tensor[S, 2]`` of
            ``(prior index, class)`` when ``gt_labels`` is given, else ``None``).
        """
        if bboxes.size(1) != 4:
            raise AssertionError("CenterRegionAssigner: bboxes must be [N, 4]")
        gt_core = scale_boxes(gt_bboxes, self.pos_scale)
        gt_shadow = scale_boxes(gt_bboxes, self.neg_scale)
        centers = (bboxes[:, 2:4] + bboxes[:, 0:2]) / 2
        in_gt = is_located_in(centers, gt_bboxes)  # [N, K]
        in_core = in_gt & (self.iou_calculator(bboxes, gt_core, mode="iof") > self.min_pos_iof)
        in_shadow = self.iou_calculator(bboxes, gt_shadow, mode="iof") > self.min_pos_iof
        in_shadow &= ~in_core
        num_gts, num_bboxes = gt_bboxes.size(0), bboxes.size(0)
        if num_gts == 0 or num_bboxes == 0:
            gt_ids = in_core.new_zeros((num_bboxes,), dtype=torch.long)
            shadowed = gt_ids.new_empty((0, 2))
        else:
            gt_ids, shadowed = self.assign_one_hot_gt_indices(
                in_core, in_shadow, gt_priority=self.get_gt_priorities(gt_bboxes))
        if gt_bboxes_ignore is not None and gt_bboxes_ignore.numel() > 0:
            ignored = scale_boxes(gt_bboxes_ignore, scale=self.ignore_gt_scale)
            gt_ids[is_located_in(centers, ignored).any(dim=1)] = -1
        labels = None
        shadowed_labels = None
        if gt_labels is not None:
            labels = gt_ids.new_full((num_bboxes,), -1)
            pos = torch.nonzero(gt_ids > 0, as_tuple=False).squeeze()
            if pos.numel() > 0:
                labels[pos] = gt_labels[gt_ids[pos] - 1]
            shadowed_labels = shadowed.clone()
            if shadowed.numel() > 0:
                pixel_idx, gt_idx = shadowed[:, 0], shadowed[:, 1]
                if (gt_ids[pixel_idx] == gt_idx).any():
                    raise AssertionError("a prior is both assigned to and shadowed by one "
                                         "ground truth")
                shadowed_labels[:, 1] = gt_labels[gt_idx - 1]
                override = labels[pixel_idx] == shadowed_labels[:, 1]
                if self.foreground_dominate:
                    shadowed_labels = shadowed_labels[~override]
                else:
                    labels[pixel_idx[override]] = -1
                    gt_ids[pixel_idx[override]] = 0
        result = AssignResult(num_gts, gt_ids, None, labels=labels)
        result.set_extra_property("shadowed_labels", shadowed_labels)
        return result

    def assign_one_hot_gt_indices(self, is_bbox_in_gt_core: Tensor,
                                  is_bbox_in_gt_shadow: Tensor,
                                  gt_priority: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """One ground truth per prior: the highest-priority core it lies in.

        Args:
            is_bbox_in_gt_core: ``Tensor[N, K]`` bool.
            is_bbox_in_gt_shadow: ``Tensor[N, K]`` bool.
            gt_priority: ``Tensor[K]``; larger wins (default: later ground truths win).

        Returns:
            ``(assigned_gt_inds: Tensor[N]`` 1-based (0: none), ``shadowed: Tensor[S, 2]`` of
            ``(prior index, 1-based gt index)``): the shadow pairs, then the core pairs the
            prior lost to a higher-priority ground truth.
        """
        num_bboxes, num_gts = is_bbox_in_gt_core.shape
        if gt_priority is None:
            gt_priority = torch.arange(num_gts, device=is_bbox_in_gt_core.device)
        if gt_priority.size(0) != num_gts:
            raise AssertionError("gt_priority must have one entry per ground truth")
        assigned = is_bbox_in_gt_core.new_zeros((num_bboxes,), dtype=torch.long)
        shadowed = torch.nonzero(is_bbox_in_gt_shadow, as_tuple=False)
        if is_bbox_in_gt_core.sum() == 0:
            shadowed[:, 1] += 1
            return assigned, shadowed
        pair_priority = is_bbox_in_gt_core.new_full((num_bboxes, num_gts), -1, dtype=torch.long)
        matched = torch.any(is_bbox_in_gt_core, dim=1)
        matched_gt = torch.nonzero(is_bbox_in_gt_core, as_tuple=False)[:, 1]
        pair_priority[is_bbox_in_gt_core] = gt_priority[matched_gt]
        _, best = pair_priority[matched].max(dim=1)
        assigned[matched] = best + 1
        lost = is_bbox_in_gt_core.clone()
        lost[matched, best] = False
        shadowed = torch.cat((shadowed, torch.nonzero(lost, as_tuple=False)), dim=0)
        if shadowed.numel() > 0:
            shadowed[:, 1] += 1
        return assigned, shadowed
