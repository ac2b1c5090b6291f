"""Points of anchor-free heads (``MlvlPointGenerator``), as MMDetection v2 places them.

A level of stride ``s`` on an ``(H, W)`` feature map has one point per location, at
``((x + offset) * s_w, (y + offset) * s_h)`` in input-image pixels; the points of a level come
in row-major order ``(0, 0), (0, 1), ..., (0, W - 1), (1, 0), ...`` (x fastest), the same
order as the head's flattened outputs ``permute(1, 2, 0).reshape(-1, C)``.

>>> gen = MlvlPointGenerator(strides=[8])
>>> gen.grid_priors([(2, 3)])[0]
tensor([[ 4.,  4.],
        [12.,  4.],
        [20.,  4.],
        [ 4., 12.],
        [12., 12.],
        [20., 12.]])
"""

from __future__ import annotations

import math
from typing import Sequence, Union

import torch
from torch import Tensor

from detbox.registry import TASK_UTILS

__all__ = ["MlvlPointGenerator"]

Stride = Union[int, Sequence[int]]
Device = Union[str, torch.device]


def _pair(stride: Stride) -> tuple[int, int]:
    if isinstance(stride, (int, float)):
        return (stride, stride)
    pair = tuple(stride)
    if len(pair) != 2:
        raise AssertionError(f"a stride must be an int or a (w, h) pair, got {stride!r}")
    return pair  # type: ignore[return-value]


@TASK_UTILS.register_module()
class MlvlPointGenerator:
    """One point per feature-map location on every level.

    Args:
        strides: stride of each level, an int or a ``(w, h)`` pair.
        offset: position of the point inside its cell, as a fraction of the stride
            (0.5: the cell's center).
    """

    def __init__(self, strides: Sequence[Stride], offset: float = 0.5) -> None:
        self.strides = [_pair(stride) for stride in strides]
        self.offset = offset

    @property
    def num_levels(self) -> int:
        """Number of feature levels."""
        return len(self.strides)

    @property
    def num_base_priors(self) -> list[int]:
        """Points per location, per level (always 1)."""
        return [1 for _ in self.strides]

    @staticmethod
    def _meshgrid(x: Tensor, y: Tensor, row_major: bool = True) -> tuple[Tensor, Tensor]:
        """Flat grid of ``x`` ([W]) and ``y`` ([H]): two ``Tensor[H * W]``, x varying fastest."""
        xx = x.repeat(y.shape[0])
        yy = y.view(-1, 1).repeat(1, x.shape[0]).view(-1)
        return (xx, yy) if row_major else (yy, xx)

    def grid_priors(self, featmap_sizes: Sequence[tuple[int, int]],
                    dtype: torch.dtype = torch.float32, device: Device = "cpu",
                    with_stride: bool = False) -> list[Tensor]:
        """Points of every level for feature maps of sizes ``[(H, W), ...]``.

        Returns:
            Per level ``Tensor[H * W, 2]`` ``(x, y)``, or ``Tensor[H * W, 4]``
            ``(x, y, stride_w, stride_h)`` with ``with_stride``.
        """
        if len(featmap_sizes) != self.num_levels:
            raise AssertionError(f"expected {self.num_levels} feature map sizes, got "
                                 f"{len(featmap_sizes)}")
        return [self.single_level_grid_priors(size, i, dtype=dtype, device=device,
                                              with_stride=with_stride)
                for i, size in enumerate(featmap_sizes)]

    def single_level_grid_priors(self, featmap_size: tuple[int, int], level_idx: int,
                                 dtype: torch.dtype = torch.float32, device: Device = "cpu",
                                 with_stride: bool = False) -> Tensor:
        """Points of level ``level_idx`` on an ``(H, W)`` map: ``Tensor[H * W, 2 or 4]``."""
        feat_h, feat_w = featmap_size
        stride_w, stride_h = self.strides[level_idx]
        # computed in float32 first, then cast (MMDetection's order of operations)
        shift_x = ((torch.arange(0, feat_w, device=device) + self.offset) * stride_w).to(dtype)
        shift_y = ((torch.arange(0, feat_h, device=device) + self.offset) * stride_h).to(dtype)
        xx, yy = self._meshgrid(shift_x, shift_y)
        if not with_stride:
            return torch.stack([xx, yy], dim=-1)
        sw = xx.new_full((xx.shape[0],), stride_w).to(dtype)
        sh = xx.new_full((yy.shape[0],), stride_h).to(dtype)
        return torch.stack([xx, yy, sw, sh], dim=-1)

    def valid_flags(self, featmap_sizes: Sequence[tuple[int, int]], pad_shape: Sequence[int],
                    device: Device = "cpu") -> list[Tensor]:
        """Which points sit on locations covered by the padded image: per level ``Tensor[H*W]``."""
        if len(featmap_sizes) != self.num_levels:
            raise AssertionError(f"expected {self.num_levels} feature map sizes, got "
                                 f"{len(featmap_sizes)}")
        h, w = pad_shape[:2]
        flags = []
        for (feat_h, feat_w), (stride_w, stride_h) in zip(featmap_sizes, self.strides):
            valid_h = min(math.ceil(h / stride_h), feat_h)
            valid_w = min(math.ceil(w / stride_w), feat_w)
            flags.append(self.single_level_valid_flags((feat_h, feat_w), (valid_h, valid_w),
                                                       device=device))
        return flags

    def single_level_valid_flags(self, featmap_size: tuple[int, int],
                                 valid_size: tuple[int, int], device: Device = "cpu") -> Tensor:
        """``Tensor[H * W]`` bool: True inside the top-left ``valid_size`` of the map."""
        feat_h, feat_w = featmap_size
        valid_h, valid_w = valid_size
        if valid_h > feat_h or valid_w > feat_w:
            raise AssertionError(f"valid size {valid_size} exceeds feature map size "
                                 f"{featmap_size}")
        valid_x = torch.arange(feat_w, device=device) < valid_w
        valid_y = torch.arange(feat_h, device=device) < valid_h
        xx, yy = self._meshgrid(valid_x, valid_y)
        return xx & yy

    def sparse_priors(self, prior_idxs: Tensor, featmap_size: tuple[int, int], level_idx: int,
                      dtype: torch.dtype = torch.float32, device: Device = "cpu") -> Tensor:
        """The points of flat indices ``prior_idxs`` (``Tensor[N]``) of one level: ``[N, 2]``."""
        height, width = featmap_size
        stride_w, stride_h = self.strides[level_idx]
        x = (prior_idxs % width + self.offset) * stride_w
        y = ((prior_idxs // width) % height + self.offset) * stride_h
        return torch.stack([x, y], 1).to(dtype=dtype, device=device)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(strides={self.strides}, offset={self.offset}, "
                f"num_levels={self.num_levels})")
