"""``AscendMaxIoUAssigner``: MMDetection v2's static-shape ``MaxIoUAssigner`` for Ascend NPUs.

MMDetection's Ascend version assigns a whole batch at once (ground truths padded to a fixed
count with far-away dummy boxes, masks instead of indexing) so that every tensor has a static
shape. On the boxes it gives the same answer as :class:`MaxIoUAssigner` but for one rule:
in the low-quality step (4) a ground truth only takes its best box if that IoU is also
above 0 (MMDetection's batched code needs this to keep the zero-IoU padding boxes out; with
``min_pos_iou=0`` the plain assigner lets a ground truth that overlaps no box claim the
boxes with IoU 0). Here the assignment runs per image, as every detbox head calls it, with
that rule; the arguments are the same.

>>> import torch
>>> boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [20.0, 20.0, 30.0, 30.0]])
>>> far = torch.tensor([[100.0, 100.0, 110.0, 110.0]])  # overlaps no box
>>> MaxIoUAssigner(0.5, 0.4, gt_max_assign_all=False).assign(boxes, far).gt_inds
tensor([1, 0])
>>> AscendMaxIoUAssigner(0.5, 0.4, gt_max_assign_all=False).assign(boxes, far).gt_inds
tensor([0, 0])
"""

from __future__ import annotations

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

    def _low_quality_qualified(self, gt_max_overlaps: Tensor) -> Tensor:
        """Step 4 matches ground truths whose best IoU is ``>= min_pos_iou`` and ``> 0`` (a
        ground truth that overlaps no anchor takes none)."""
        return (gt_max_overlaps >= self.min_pos_iou) & (gt_max_overlaps > 0)
