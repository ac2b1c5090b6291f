"""``SSDAnchorGenerator``: SSD's per-level anchors (MMDetection v2's rules and order).

Per level ``k``: anchors of ratio 1 at scales ``1`` and ``sqrt(max_size / min_size)`` of
``min_size``, plus ratio ``r`` and ``1 / r`` at scale 1 for each ``r`` of ``ratios[k]`` (4 or
6 anchors), centered at half a stride. Without ``min_sizes`` / ``max_sizes`` the sizes follow
the SSD300 / SSD512 recipes from ``basesize_ratio_range``.

>>> gen = SSDAnchorGenerator(strides=[8, 16], ratios=[[2], [2, 3]], min_sizes=[10, 20],
...                          max_sizes=[20, 40], scale_major=False)
>>> gen.num_base_anchors
[4, 6]
>>> gen.base_anchors[0][:2]
tensor([[-1.0000, -1.0000,  9.0000,  9.0000],
        [-3.0711, -3.0711, 11.0711, 11.0711]])
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from torch import Tensor

from detbox.registry import TASK_UTILS

from .anchor_generator import AnchorGenerator, Stride, _pair

__all__ = ["SSDAnchorGenerator", "ssd_anchor_sizes"]

# (input_size, basesize_ratio_range[0]) -> the first level's (min, max) in percent of the input
_FIRST_LEVEL = {(300, 0.15): (7, 15), (300, 0.2): (10, 20), (512, 0.1): (4, 10),
                (512, 0.15): (7, 15)}


def ssd_anchor_sizes(input_size: int, basesize_ratio_range: tuple[float, float],
                     num_levels: int) -> tuple[list[int], list[int]]:
    """SSD's ``(min_sizes, max_sizes)`` per level from the ratio range (MMDetection's rule)."""
    if not all(isinstance(r, float) for r in basesize_ratio_range):
        raise TypeError(f"basesize_ratio_range must be floats, got {basesize_ratio_range}")
    lo, hi = int(basesize_ratio_range[0] * 100), int(basesize_ratio_range[1] * 100)
    step = int(np.floor(hi - lo) / (num_levels - 2))
    min_sizes = [int(input_size * r / 100) for r in range(lo, hi + 1, step)]
    max_sizes = [int(input_size * (r + step) / 100) for r in range(lo, hi + 1, step)]
    if input_size not in (300, 512):
        raise ValueError("Only support 300 or 512 in SSDAnchorGenerator when not setting "
                         f"min_sizes and max_sizes, got {input_size}.")
    first = _FIRST_LEVEL.get((input_size, basesize_ratio_range[0]))
    if first is None:
        allowed = sorted(r for s, r in _FIRST_LEVEL if s == input_size)
        raise ValueError(f"basesize_ratio_range[0] should be one of {allowed} when input_size "
                         f"is {input_size}, got {basesize_ratio_range[0]}.")
    min_sizes.insert(0, int(input_size * first[0] / 100))
    max_sizes.insert(0, int(input_size * first[1] / 100))
    return min_sizes, max_sizes


@TASK_UTILS.register_module()
class SSDAnchorGenerator(AnchorGenerator):
    """Anchors of SSD.

    Args:
        strides: stride of each level.
        ratios: per level, the extra ratios (each adds ``r`` and ``1 / r``).
        min_sizes: per level, the size of the first anchor.
        max_sizes: per level, with ``min_sizes`` giving the second scale.
        basesize_ratio_range: used without ``min_sizes``/``max_sizes``.
        input_size: 300 or 512, used without ``min_sizes``/``max_sizes``.
        scale_major: order of the base anchors before SSD's reordering (SSD configs: False).
    """

    def __init__(self, strides: Sequence[Stride], ratios: Sequence[Sequence[float]],
                 min_sizes: Sequence[float] | None = None,
                 max_sizes: Sequence[float] | None = None,
                 basesize_ratio_range: tuple[float, float] = (0.15, 0.9),
                 input_size: int = 300, scale_major: bool = True) -> None:
        if len(strides) != len(ratios):
            raise ValueError(f"SSDAnchorGenerator: {len(strides)} strides but {len(ratios)} "
                             "ratio lists")
        if (min_sizes is None) != (max_sizes is None):
            raise ValueError("SSDAnchorGenerator: give both min_sizes and max_sizes, or neither")
        self.strides = [_pair(stride) for stride in strides]
        self.centers = [(s[0] / 2.0, s[1] / 2.0) for s in self.strides]
        self.input_size = input_size
        self.basesize_ratio_range = basesize_ratio_range
        if min_sizes is None:
            min_sizes, max_sizes = ssd_anchor_sizes(input_size, basesize_ratio_range,
                                                    len(self.strides))
        if not len(min_sizes) == len(max_sizes) == len(self.strides):
            raise ValueError(f"SSDAnchorGenerator: {len(self.strides)} levels but "
                             f"{len(min_sizes)} min_sizes and {len(max_sizes)} max_sizes")
        self.scales, self.ratios = [], []
        for k in range(len(self.strides)):
            self.scales.append(torch.Tensor([1.0, np.sqrt(max_sizes[k] / min_sizes[k])]))
            level_ratios = [1.0]
            for r in ratios[k]:
                level_ratios += [1 / r, r]
            self.ratios.append(torch.Tensor(level_ratios))
        self.base_sizes = list(min_sizes)
        self.scale_major = scale_major
        self.center_offset = 0
        self.octave_base_scale = self.scales_per_octave = None
        self.base_anchors = self.gen_base_anchors()

    def gen_base_anchors(self) -> list[Tensor]:
        """Per level ``Tensor[R + 1, 4]``: (scale 0, ratio 1), (scale 1, ratio 1), then scale 0
        with the other ratios."""
        out = []
        for i, base_size in enumerate(self.base_sizes):
            anchors = self.gen_single_level_base_anchors(base_size, scales=self.scales[i],
                                                         ratios=self.ratios[i],
                                                         center=self.centers[i])
            order = list(range(len(self.ratios[i])))
            order.insert(1, len(order))
            out.append(torch.index_select(anchors, 0, torch.LongTensor(order)))
        return out

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(strides={self.strides}, base_sizes={self.base_sizes}, "
                f"scales={self.scales}, ratios={self.ratios}, input_size={self.input_size}, "
                f"basesize_ratio_range={self.basesize_ratio_range})")
