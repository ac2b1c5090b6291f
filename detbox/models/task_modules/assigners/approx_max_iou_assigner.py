"""Assignment of groups of approximate anchors (``type='ApproxMaxIoUAssigner'``).

Guided Anchoring and SABL describe each location by a *square* anchor and
``approxs_per_octave`` approximate anchors of several shapes around it. A square's IoU with a
ground truth is the best IoU of its group of approxs; from there the thresholds of
:class:`MaxIoUAssigner` apply to the squares unchanged, and ignore regions are measured on the
squares.

>>> import torch
>>> assigner = ApproxMaxIoUAssigner(pos_iou_thr=0.5, neg_iou_thr=0.4)
>>> squares = torch.tensor([[0.0, 0.0, 10.0, 10.0], [20.0, 20.0, 30.0, 30.0]])
>>> approxs = torch.tensor([[0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 10.0, 4.0],
...                         [20.0, 20.0, 30.0, 30.0], [20.0, 20.0, 30.0, 24.0]])
>>> assigner.assign(approxs, squares, 2, torch.tensor([[0.0, 0.0, 10.0, 5.0]])).gt_inds
tensor([1, 0])
"""

from __future__ import annotations

from torch import Tensor

from detbox.registry import TASK_UTILS

from .assign_result import AssignResult
from .max_iou_assigner import MaxIoUAssigner

__all__ = ["ApproxMaxIoUAssigner", "group_max_overlaps"]


def group_max_overlaps(overlaps: Tensor, approxs_per_octave: int) -> Tensor:
    """Best IoU of each group of approxs with each ground truth.

    Args:
        overlaps: ``Tensor[A * N, K]`` IoUs of the approxs, ordered square-major (the ``A``
            approxs of square 0 first), with the ``K`` ground truths.
        approxs_per_octave: ``A``, the approxs per square.

    Returns:
        ``Tensor[K, N]``: for each ground truth and square, the max over its approxs.
    """
    num_gts = overlaps.size(1)
    grouped = overlaps.view(-1, approxs_per_octave, num_gts)  # [N, A, K]
    return grouped.max(dim=1).values.t()


@TASK_UTILS.register_module()
class ApproxMaxIoUAssigner(MaxIoUAssigner):
    """:class:`MaxIoUAssigner` on squares whose IoU is the best of their approxs.

    Takes the same arguments as :class:`MaxIoUAssigner`.
    """

    def assign(self, approxs: Tensor, squares: Tensor, approxs_per_octave: int,  # type: ignore[override]
               gt_bboxes: Tensor, gt_bboxes_ignore: Tensor | None = None,
               gt_labels: Tensor | None = None) -> AssignResult:
        """Assign ground truths to squares.

        Args:
            approxs: ``Tensor[N * A, 4]`` xyxy approxs, the ``A = approxs_per_octave`` of
                each square consecutive.
            squares: ``Tensor[N, 4]`` xyxy squares.
            approxs_per_octave: ``A``.
            gt_bboxes: ``Tensor[K, 4]`` ground truths.
            gt_bboxes_ignore: ``Tensor[L, 4]`` ignore regions (compared with the squares).
            gt_labels: ``Tensor[K]`` labels, for per-square labels in the result.

        Returns:
            The :class:`AssignResult` of the ``N`` squares.
        """
        num_squares, num_gts = squares.size(0), gt_bboxes.size(0)
        if num_squares == 0 or num_gts == 0:
            return self.assign_wrt_overlaps(approxs.new_zeros((num_gts, num_squares)), gt_labels)
        if approxs.size(0) != num_squares * approxs_per_octave:
            raise ValueError(f"ApproxMaxIoUAssigner: {approxs.size(0)} approxs for "
                             f"{num_squares} squares x {approxs_per_octave} per octave")

        assign_on_cpu = self.gpu_assign_thr > 0 and num_gts > self.gpu_assign_thr
        device = approxs.device
        if assign_on_cpu:
            approxs, squares, gt_bboxes = approxs.cpu(), squares.cpu(), gt_bboxes.cpu()
            if gt_bboxes_ignore is not None:
                gt_bboxes_ignore = gt_bboxes_ignore.cpu()
            if gt_labels is not None:
                gt_labels = gt_labels.cpu()

        overlaps = group_max_overlaps(self.iou_calculator(approxs, gt_bboxes),
                                      approxs_per_octave)
        self._ignore_covered(overlaps, squares, gt_bboxes_ignore)
        result = self.assign_wrt_overlaps(overlaps, gt_labels)
        if assign_on_cpu:
            result.gt_inds = result.gt_inds.to(device)
            result.max_overlaps = result.max_overlaps.to(device)
            if result.labels is not None:
                result.labels = result.labels.to(device)
        return result
