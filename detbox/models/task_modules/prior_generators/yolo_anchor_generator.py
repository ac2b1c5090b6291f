"""``YOLOAnchorGenerator``: YOLOv3's fixed-size anchors per level, and its responsible cells.

Each level ``k`` has ``A`` anchors of given ``(w, h)`` sizes, all centered at half a stride;
they are shifted over the grid like :class:`AnchorGenerator`'s (location-major, ``A`` anchors
per location). A ground truth is the responsibility of the grid cell its center falls in, on
every level (:meth:`YOLOAnchorGenerator.responsible_flags`).

>>> gen = YOLOAnchorGenerator(strides=[32], base_sizes=[[(116, 90), (30, 61)]])
>>> gen.base_anchors[0]
tensor([[-42.0000, -29.0000,  74.0000,  61.0000],
        [  1.0000, -14.5000,  31.0000,  46.5000]])
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor

from detbox.registry import TASK_UTILS

from .anchor_generator import AnchorGenerator, Device, Stride, _pair

__all__ = ["YOLOAnchorGenerator"]


@TASK_UTILS.register_module()
class YOLOAnchorGenerator(AnchorGenerator):
    """Anchors of YOLOv3.

    Args:
        strides: stride of each level.
        base_sizes: per level, the ``(w, h)`` (or single size) of each anchor; every level
            must have the same number of anchors.
    """

    def __init__(self, strides: Sequence[Stride],
                 base_sizes: Sequence[Sequence[Stride]]) -> None:
        if len(strides) != len(base_sizes):
            raise ValueError(f"YOLOAnchorGenerator: {len(strides)} strides but "
                             f"{len(base_sizes)} levels of base_sizes")
        self.strides = [_pair(stride) for stride in strides]
        self.centers = [(s[0] / 2.0, s[1] / 2.0) for s in self.strides]
        per_level = len(base_sizes[0])
        self.base_sizes = []
        for level, sizes in enumerate(base_sizes):
            if len(sizes) != per_level:
                raise ValueError(f"YOLOAnchorGenerator: level {level} has {len(sizes)} "
                                 f"base sizes, level 0 has {per_level}")
            self.base_sizes.append([_pair(size) for size in sizes])
        self.base_anchors = self.gen_base_anchors()

    @property
    def num_levels(self) -> int:
        """Number of feature levels."""
        return len(self.base_sizes)

    def gen_base_anchors(self) -> list[Tensor]:
        """Base anchors of every level: a list of ``Tensor[A, 4]`` xyxy."""
        return [self.gen_single_level_base_anchors(sizes, self.centers[i])
                for i, sizes in enumerate(self.base_sizes)]

    def gen_single_level_base_anchors(self, base_sizes_per_level: Sequence[tuple[int, int]],
                                      center: tuple[float, float]) -> Tensor:  # type: ignore[override]
        """``Tensor[A, 4]`` boxes of sizes ``(w, h)`` centered at ``center``."""
        cx, cy = center
        return torch.tensor([[cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h]
                             for w, h in base_sizes_per_level], dtype=torch.float32)

    def responsible_flags(self, featmap_sizes: Sequence[tuple[int, int]], gt_bboxes: Tensor,
                          device: Device = "cpu") -> list[Tensor]:
        """Per level, ``Tensor[H * W * A]`` uint8: 1 for the anchors of cells holding a
        ground-truth center (``gt_bboxes``: ``Tensor[K, 4]`` xyxy)."""
        if len(featmap_sizes) != self.num_levels:
            raise ValueError(f"expected {self.num_levels} feature map sizes, "
                             f"got {len(featmap_sizes)}")
        return [self.single_level_responsible_flags(size, gt_bboxes, self.strides[i],
                                                    self.num_base_anchors[i], device=device)
                for i, size in enumerate(featmap_sizes)]

    @staticmethod
    def single_level_responsible_flags(featmap_size: tuple[int, int], gt_bboxes: Tensor,
                                       stride: tuple[int, int], num_base_anchors: int,
                                       device: Device = "cpu") -> Tensor:
        """``Tensor[H * W * A]`` uint8 flags of one level (see :meth:`responsible_flags`)."""
        feat_h, feat_w = featmap_size
        cx = ((gt_bboxes[:, 0] + gt_bboxes[:, 2]) * 0.5).to(device)
        cy = ((gt_bboxes[:, 1] + gt_bboxes[:, 3]) * 0.5).to(device)
        grid_x = torch.floor(cx / stride[0]).long()
        grid_y = torch.floor(cy / stride[1]).long()
        grid = torch.zeros(feat_h * feat_w, dtype=torch.uint8, device=device)
        grid[grid_y * feat_w + grid_x] = 1
        return grid[:, None].expand(feat_h * feat_w, num_base_anchors).reshape(-1)
