"""The standard anchor generator of MMDetection v2 (``type='AnchorGenerator'``).

Every anchor is a box ``xyxy`` in input-image pixels. A level has ``A`` base anchors (one per
ratio x scale) placed around the origin; the grid anchors of a feature map of size ``(H, W)``
are the base anchors shifted by ``(x * stride_w, y * stride_h)`` for every location, giving
``Tensor[H * W * A, 4]`` with the ``A`` anchors of a location consecutive and the locations
in row-major order: ``(0, 0), (0, 1), ..., (0, W - 1), (1, 0), ...``.

>>> gen = AnchorGenerator(strides=[16], ratios=[1.0], scales=[1.0], base_sizes=[9])
>>> gen.grid_priors([(1, 2)])[0]
tensor([[-4.5000, -4.5000,  4.5000,  4.5000],
        [11.5000, -4.5000, 20.5000,  4.5000]])
"""

from __future__ import annotations

import math
import warnings
from typing import Sequence, Union

import torch
from torch import Tensor

from detbox.registry import TASK_UTILS

__all__ = ["AnchorGenerator"]

Stride = Union[int, Sequence[int]]
Device = Union[str, torch.device]


def _check(condition: bool, message: str) -> None:
    # MMDetection raises AssertionError here; keep the type, but survive ``python -O``.
    if not condition:
        raise AssertionError(message)


def _pair(stride: Stride) -> tuple[int, int]:
    """A stride as ``(w, h)``: an int ``s`` becomes ``(s, s)``."""
    if isinstance(stride, (int, float)):
        return (stride, stride)
    pair = tuple(stride)
    _check(len(pair) == 2, f"a stride must be an int or a (w, h) pair, got {stride!r}")
    return pair  # type: ignore[return-value]


@TASK_UTILS.register_module()
class AnchorGenerator:
    """Anchors for anchor-based dense heads (RPN, RetinaNet, ...), as MMDetection v2 makes them.

    Args:
        strides: stride of each feature level, an int or a ``(w, h)`` pair.
        ratios: anchor height / width ratios, shared by all levels.
        scales: anchor scales (multiples of the base size), shared by all levels. Give either
            this or both ``octave_base_scale`` and ``scales_per_octave``.
        base_sizes: base anchor size per level; by default the smaller side of each stride.
        scale_major: order base anchors ratio by ratio with all scales of one ratio together
            (MMDetection v2 default), else scale by scale.
        octave_base_scale: first scale of an octave (RetinaNet uses 4).
        scales_per_octave: number of scales ``octave_base_scale * 2 ** (i / n)``, ``i < n``.
        centers: per level, the ``(x, y)`` center of the base anchors; by default
            ``center_offset * base_size``.
        center_offset: center of the base anchors as a fraction of the base size, in [0, 1];
            must stay 0 when ``centers`` is given.
    """

    def __init__(self,
                 strides: Sequence[Stride],
                 ratios: Sequence[float],
                 scales: Sequence[float] | None = None,
                 base_sizes: Sequence[float] | None = None,
                 scale_major: bool = True,
                 octave_base_scale: float | None = None,
                 scales_per_octave: int | None = None,
                 centers: Sequence[tuple[float, float]] | None = None,
                 center_offset: float = 0.0) -> None:
        if center_offset != 0:
            _check(centers is None,
                   f"centers cannot be set when center_offset != 0, {centers} is given.")
        if not 0 <= center_offset <= 1:
            raise ValueError(f"center_offset should be in range [0, 1], {center_offset} is given.")
        if centers is not None:
            _check(len(centers) == len(strides), "the number of strides should be the same as "
                   f"centers, got {strides} and {centers}")

        self.strides = [_pair(stride) for stride in strides]
        self.base_sizes = ([min(stride) for stride in self.strides]
                           if base_sizes is None else list(base_sizes))
        _check(len(self.base_sizes) == len(self.strides), "the number of strides should be the "
               f"same as base sizes, got {self.strides} and {self.base_sizes}")

        octave = octave_base_scale is not None and scales_per_octave is not None
        _check(octave ^ (scales is not None), "set either scales or both octave_base_scale and "
               "scales_per_octave, not both and not neither")
        if scales is None:
            scales = [octave_base_scale * 2 ** (i / scales_per_octave)
                      for i in range(scales_per_octave)]
        self.scales = torch.tensor(scales, dtype=torch.float32)
        self.octave_base_scale = octave_base_scale
        self.scales_per_octave = scales_per_octave
        self.ratios = torch.tensor(ratios, dtype=torch.float32)
        self.scale_major = scale_major
        self.centers = centers
        self.center_offset = center_offset
        self.base_anchors = self.gen_base_anchors()

    @property
    def num_base_anchors(self) -> list[int]:
        """Number of anchors at each location, per level."""
        return [anchors.size(0) for anchors in self.base_anchors]

    @property
    def num_base_priors(self) -> list[int]:
        """Alias of :attr:`num_base_anchors` (the name heads of v2.28 use)."""
        return self.num_base_anchors

    @property
    def num_levels(self) -> int:
        """Number of feature levels."""
        return len(self.strides)

    def gen_base_anchors(self) -> list[Tensor]:
        """Base anchors of every level: a list of ``Tensor[A, 4]`` xyxy."""
        return [
            self.gen_single_level_base_anchors(
                base_size, scales=self.scales, ratios=self.ratios,
                center=None if self.centers is None else self.centers[i])
            for i, base_size in enumerate(self.base_sizes)
        ]

    def gen_single_level_base_anchors(self, base_size: float, scales: Tensor, ratios: Tensor,
                                      center: tuple[float, float] | None = None) -> Tensor:
        """Base anchors of one level around ``center``.

        Args:
            base_size: side of the anchor of ratio 1 and scale 1.
            scales: ``Tensor[S]`` scales.
            ratios: ``Tensor[R]`` height / width ratios.
            center: ``(x, y)`` of the anchors; ``center_offset * base_size`` if not given.

        Returns:
            ``Tensor[R * S, 4]`` xyxy; with ``scale_major`` row ``r * S + s`` has ratio ``r`` and
            scale ``s``, otherwise row ``s * R + r``.
        """
        if center is None:
            cx = cy = self.center_offset * base_size
        else:
            cx, cy = center
        h_ratios = torch.sqrt(ratios)
        w_ratios = 1 / h_ratios
        if self.scale_major:
            ws = (base_size * w_ratios[:, None] * scales[None, :]).view(-1)  # [R * S]
            hs = (base_size * h_ratios[:, None] * scales[None, :]).view(-1)
        else:
            ws = (base_size * scales[:, None] * w_ratios[None, :]).view(-1)  # [S * R]
            hs = (base_size * scales[:, None] * h_ratios[None, :]).view(-1)
        return torch.stack([cx - 0.5 * ws, cy - 0.5 * hs, cx + 0.5 * ws, cy + 0.5 * hs], dim=-1)

    @staticmethod
    def _meshgrid(x: Tensor, y: Tensor, row_major: bool = True) -> tuple[Tensor, Tensor]:
        """Flat grid of ``x`` ([W]) and ``y`` ([H]): two ``Tensor[H * W]``, x varying fastest."""
        xx = x.repeat(y.shape[0])
        yy = y.view(-1, 1).repeat(1, x.shape[0]).view(-1)
        return (xx, yy) if row_major else (yy, xx)

    def grid_priors(self, featmap_sizes: Sequence[tuple[int, int]],
                    dtype: torch.dtype = torch.float32, device: Device = "cpu") -> list[Tensor]:
        """Anchors of every level for feature maps of sizes ``[(H, W), ...]``.

        Returns:
            Per level, ``Tensor[H * W * A, 4]`` xyxy (order in the module docstring).
        """
        _check(len(featmap_sizes) == self.num_levels,
               f"expected {self.num_levels} feature map sizes, got {len(featmap_sizes)}")
        return [self.single_level_grid_priors(size, i, dtype=dtype, device=device)
                for i, size in enumerate(featmap_sizes)]

    def single_level_grid_priors(self, featmap_size: tuple[int, int], level_idx: int,
                                 dtype: torch.dtype = torch.float32,
                                 device: Device = "cpu") -> Tensor:
        """Anchors of level ``level_idx`` on an ``(H, W)`` feature map: ``Tensor[H*W*A, 4]``."""
        base_anchors = self.base_anchors[level_idx].to(device=device, dtype=dtype)
        return self._shift(base_anchors, featmap_size, self.strides[level_idx], dtype)

    @staticmethod
    def _shift(base_anchors: Tensor, featmap_size: tuple[int, int], stride: tuple[int, int],
               dtype: torch.dtype) -> Tensor:
        feat_h, feat_w = featmap_size
        shift_x = torch.arange(0, feat_w, device=base_anchors.device).to(dtype) * stride[0]
        shift_y = torch.arange(0, feat_h, device=base_anchors.device).to(dtype) * stride[1]
        xx, yy = AnchorGenerator._meshgrid(shift_x, shift_y)
        shifts = torch.stack([xx, yy, xx, yy], dim=-1).to(base_anchors.dtype)  # [H * W, 4]
        return (base_anchors[None, :, :] + shifts[:, None, :]).view(-1, 4)  # [H * W * A, 4]

    def grid_anchors(self, featmap_sizes: Sequence[tuple[int, int]],
                     device: Device = "cpu") -> list[Tensor]:
        """Deprecated alias of :meth:`grid_priors`."""
        warnings.warn("grid_anchors is deprecated; use grid_priors", DeprecationWarning,
                      stacklevel=2)
        return self.grid_priors(featmap_sizes, device=device)

    def single_level_grid_anchors(self, base_anchors: Tensor, featmap_size: tuple[int, int],
                                  stride: Stride = (16, 16), device: Device = "cpu") -> Tensor:
        """Deprecated: shift ``base_anchors`` (``Tensor[A, 4]``) over a ``(H, W)`` grid."""
        warnings.warn("single_level_grid_anchors is deprecated; use single_level_grid_priors",
                      DeprecationWarning, stacklevel=2)
        return self._shift(base_anchors.to(device), featmap_size, _pair(stride),
                           base_anchors.dtype)

    def valid_flags(self, featmap_sizes: Sequence[tuple[int, int]], pad_shape: Sequence[int],
                    device: Device = "cpu") -> list[Tensor]:
        """Which anchors sit on feature locations covered by the padded image.

        Args:
            featmap_sizes: ``(H, W)`` per level (of the padded batch).
            pad_shape: ``(h, w, ...)`` of this image after padding.
            device: where the flags go.

        Returns:
            Per level, ``Tensor[H * W * A]`` bool, in :meth:`grid_priors` order.
        """
        _check(len(featmap_sizes) == self.num_levels,
               f"expected {self.num_levels} feature map sizes, got {len(featmap_sizes)}")
        h, w = pad_shape[:2]
        flags = []
        for i, (feat_h, feat_w) in enumerate(featmap_sizes):
            stride_w, stride_h = self.strides[i]
            valid_h = min(math.ceil(h / stride_h), feat_h)
            valid_w = min(math.ceil(w / stride_w), feat_w)
            flags.append(self.single_level_valid_flags(
                (feat_h, feat_w), (valid_h, valid_w), self.num_base_anchors[i], device=device))
        return flags

    def single_level_valid_flags(self, featmap_size: tuple[int, int],
                                 valid_size: tuple[int, int], num_base_anchors: int,
                                 device: Device = "cpu") -> Tensor:
        """``Tensor[H * W * A]`` bool: True where the location is in the top-left ``valid_size``."""
        feat_h, feat_w = featmap_size
        valid_h, valid_w = valid_size
        _check(valid_h <= feat_h and valid_w <= feat_w,
               f"valid size {valid_size} exceeds feature map size {featmap_size}")
        valid_x = torch.arange(feat_w, device=device) < valid_w
        valid_y = torch.arange(feat_h, device=device) < valid_h
        xx, yy = self._meshgrid(valid_x, valid_y)
        valid = xx & yy  # [H * W]
        return valid[:, None].expand(valid.size(0), num_base_anchors).reshape(-1)

    def __repr__(self) -> str:
        settings = {
            "strides": self.strides, "ratios": self.ratios.tolist(),
            "scales": self.scales.tolist(), "base_sizes": self.base_sizes,
            "scale_major": self.scale_major, "octave_base_scale": self.octave_base_scale,
            "scales_per_octave": self.scales_per_octave, "num_levels": self.num_levels,
            "centers": self.centers, "center_offset": self.center_offset,
        }
        body = ",\n".join(f"    {key}={value}" for key, value in settings.items())
        return f"{type(self).__name__}(\n{body})"
