"""RepPoints' point assignment (``type='PointAssigner'``), MMDetection v2's.

Each ground truth of size ``(w, h)`` belongs to pyramid level
``int((log2(w / scale) + log2(h / scale)) / 2)`` (clamped to the levels present); on that
level its ``pos_num`` points nearest to its center (distance normalised by ``(w, h)``) become
its positives, unless a point is already closer to another ground truth. All other points are
negatives.

>>> points = torch.tensor([[4.0, 4.0, 8.0], [12.0, 4.0, 8.0], [8.0, 8.0, 16.0]])
>>> PointAssigner(scale=4, pos_num=1).assign(points, torch.tensor([[8.0, 0.0, 16.0, 8.0]])).gt_inds
tensor([0, 1, 0])
"""

from __future__ import annotations

import torch
from torch import Tensor

from detbox.registry import TASK_UTILS

from .assign_result import AssignResult
from .base_assigner import BaseAssigner

__all__ = ["PointAssigner"]


@TASK_UTILS.register_module()
class PointAssigner(BaseAssigner):
    """Assign points to the ground truths of their pyramid level.

    Args:
        scale: the ground-truth size (pixels) that maps to level 0 (stride 1).
        pos_num: positives per ground truth.
    """

    def __init__(self, scale: int = 4, pos_num: int = 3) -> None:
        self.scale = scale
        self.pos_num = pos_num

    def assign(self, points: Tensor, gt_bboxes: Tensor, gt_bboxes_ignore: Tensor | None = None,
               gt_labels: Tensor | None = None) -> AssignResult:
        """Assign points ``Tensor[N, 3+]`` (``x, y, stride, ...``) to ground truths
        ``Tensor[K, 4]``. ``gt_bboxes_ignore`` is not used."""
        num_points, num_gts = points.shape[0], gt_bboxes.shape[0]
        if num_gts == 0 or num_points == 0:
            gt_inds = points.new_full((num_points,), 0, dtype=torch.long)
            labels = (None if gt_labels is None
                      else points.new_full((num_points,), -1, dtype=torch.long))
            return AssignResult(num_gts, gt_inds, None, labels=labels)
        points_xy = points[:, :2]
        points_lvl = torch.log2(points[:, 2]).int()
        lvl_min, lvl_max = points_lvl.min(), points_lvl.max()
        gt_xy = (gt_bboxes[:, :2] + gt_bboxes[:, 2:]) / 2
        gt_wh = (gt_bboxes[:, 2:] - gt_bboxes[:, :2]).clamp(min=1e-6)
        gt_lvl = ((torch.log2(gt_wh[:, 0] / self.scale)
                   + torch.log2(gt_wh[:, 1] / self.scale)) / 2).int()
        gt_lvl = torch.clamp(gt_lvl, min=lvl_min, max=lvl_max)
        gt_inds = points.new_zeros((num_points,), dtype=torch.long)
        gt_dist = points.new_full((num_points,), float("inf"))
        points_range = torch.arange(num_points)
        for idx in range(num_gts):
            on_level = gt_lvl[idx] == points_lvl
            level_index = points_range[on_level]
            dist = ((points_xy[on_level, :] - gt_xy[[idx], :]) / gt_wh[[idx], :]).norm(dim=1)
            min_dist, min_index = torch.topk(dist, self.pos_num, largest=False)
            chosen = level_index[min_index]
            closer = min_dist < gt_dist[chosen]
            chosen = chosen[closer]
            gt_inds[chosen] = idx + 1
            gt_dist[chosen] = min_dist[closer]
        labels = None
        if gt_labels is not None:
            labels = gt_inds.new_full((num_points,), -1)
            pos = torch.nonzero(gt_inds > 0, as_tuple=False).squeeze()
            if pos.numel() > 0:
                labels[pos] = gt_labels[gt_inds[pos] - 1]
        return AssignResult(num_gts, gt_inds, None, labels=labels)
