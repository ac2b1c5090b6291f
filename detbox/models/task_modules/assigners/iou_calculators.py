"""The IoU calculator that assigners build from ``iou_calculator=dict(type='BboxOverlaps2D')``."""

from __future__ import annotations

import torch
from torch import Tensor

from detbox.ops import bbox_overlaps
from detbox.registry import TASK_UTILS

__all__ = ["BboxOverlaps2D"]


@TASK_UTILS.register_module()
class BboxOverlaps2D:
    """Overlaps of 2D boxes (MMDetection v2's ``BboxOverlaps2D``).

    Boxes may carry a fifth score column (``x1, y1, x2, y2, score``), which is dropped.

    Args:
        scale: with ``dtype='fp16'``, boxes are divided by this before the cast (to avoid
            overflow).
        dtype: ``'fp16'`` computes in half precision (returned as float32 on CPU); ``None``
            computes in the boxes' own dtype.
    """

    def __init__(self, scale: float = 1.0, dtype: str | None = None) -> None:
        self.scale = scale
        self.dtype = dtype

    def __call__(self, bboxes1: Tensor, bboxes2: Tensor, mode: str = "iou",
                 is_aligned: bool = False) -> Tensor:
        """Overlaps of ``Tensor[M, 4|5]`` and ``Tensor[N, 4|5]``: ``Tensor[M, N]`` (or ``[M]``).

        ``mode`` is ``'iou'``, ``'iof'`` or ``'giou'`` (see :func:`detbox.ops.bbox_overlaps`).
        """
        for name, boxes in (("bboxes1", bboxes1), ("bboxes2", bboxes2)):
            if boxes.size(-1) not in (0, 4, 5):
                raise AssertionError(f"BboxOverlaps2D: {name} must be (n, 4) or (n, 5), got "
                                     f"{tuple(boxes.shape)}")
        if bboxes2.size(-1) == 5:
            bboxes2 = bboxes2[..., :4]
        if bboxes1.size(-1) == 5:
            bboxes1 = bboxes1[..., :4]
        if self.dtype == "fp16":
            overlaps = bbox_overlaps((bboxes1 / self.scale).half(),
                                     (bboxes2 / self.scale).half(), mode, is_aligned)
            if not overlaps.is_cuda and overlaps.dtype == torch.float16:
                overlaps = overlaps.float()
            return overlaps
        return bbox_overlaps(bboxes1, bboxes2, mode, is_aligned)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(scale={self.scale}, dtype={self.dtype})"
