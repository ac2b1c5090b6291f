"""``AscendMaxIoUAssigner``: MMDetection v2's static-shape ``MaxIoUAssigner`` for Ascend NPUs.

MMDetection's Ascend version assigns a whole batch at once (ground truths padded to a fixed
count with far-away dummy boxes, masks instead of indexing) so that every tensor has a static
shape. On the boxes it gives the same answer as :class:`MaxIoUAssigner` but for one rule:
in the low-quality step (4) a ground truth only takes its best box if that IoU is also
above 0 (MMDetection's batched code needs this to keep the zero-IoU padding boxes out; with
``min_pos_iou=0`` the plain assigner lets a ground truth that overlaps no box claim the
boxes with IoU 0). Here the assignment runs per image, as every detbox head calls it, with
that rule; the arguments are the same.

>>> boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [20.0, 20.0, 30.0, 30.0]])
>>> far = torch.tensor([[100.0, 100.0, 110.0, 110.0]])  # overlaps no box
>>> MaxIoUAssigner(0.5, 0.4, gt_max_assign_all=False).assign(boxes, far).gt_inds
tensor([1, 0])
>>> AscendMaxIoUAssigner(0.5, 0.4, gt_max_assign_all=False).assign(boxes, far).gt_inds
tensor([0, 0])
"""

from __future__ import annotations

import torch
from torch import Tensor

from detbox.registry import TASK_UTILS

from .max_iou_assigner import MaxIoUAssigner

__all__ = ["AscendMaxIoUAssigner"]


@TASK_UTILS.register_module()
class AscendMaxIoUAssigner(MaxIoUAssigner):
    """:class:`MaxIoUAssigner` whose low-quality matches need an IoU above 0 (see the module
    docstring); same arguments and meaning (``gpu_assign_thr``, which MMDetection's Ascend
    version accepts but ignores, moves large assignments to the CPU as in
    :class:`MaxIoUAssigner`, with the same result). ``assign`` takes one image's boxes, not
    MMDetection's batched ``(B, N, 4)`` tensors with their ``batch_bboxes_ignore_mask``."""

    def _match_low_quality(self, overlaps: Tensor, gt_max_overlaps: Tensor,
                           gt_argmax_overlaps: Tensor, assigned_gt_inds: Tensor) -> None:
        """Step 4 (in place) for ground truths whose best IoU is ``>= min_pos_iou`` and
        ``> 0``; later ground truths win ties."""
        qualified = (gt_max_overlaps >= self.min_pos_iou) & (gt_max_overlaps > 0)  # [K]
        if self.gt_max_assign_all:
            hits = (overlaps == gt_max_overlaps[:, None]) & qualified[:, None]  # [K, N]
            gt_ids = torch.arange(1, overlaps.size(0) + 1, device=overlaps.device)
            last = (hits.long() * gt_ids[:, None]).max(dim=0).values  # [N], 0 where none
            assigned_gt_inds[last > 0] = last[last > 0]
        else:
            for i in torch.nonzero(qualified, as_tuple=False).view(-1).tolist():
                assigned_gt_inds[gt_argmax_overlaps[i]] = i + 1
