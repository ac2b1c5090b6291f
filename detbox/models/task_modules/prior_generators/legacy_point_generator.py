"""``PointGenerator``: MMDetection v2's single-level point generator (the pre-2.18 interface).

RepPoints' configs of MMDetection 1.x used it; current heads use :class:`MlvlPointGenerator`.
Points are ``(x, y, stride)`` at ``(col * stride, row * stride)`` (no half-cell offset), row
major.

>>> PointGenerator().grid_points((2, 2), stride=8, device='cpu')
tensor([[0., 0., 8.],
        [8., 0., 8.],
        [0., 8., 8.],
        [8., 8., 8.]])
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from detbox.registry import TASK_UTILS

__all__ = ["PointGenerator"]


@TASK_UTILS.register_module()
class PointGenerator:
    """Points of one feature level."""

    @staticmethod
    def _meshgrid(x: Tensor, y: Tensor, row_major: bool = True) -> tuple[Tensor, Tensor]:
        xx = x.repeat(len(y))
        yy = y.view(-1, 1).repeat(1, len(x)).view(-1)
        return (xx, yy) if row_major else (yy, xx)

    def grid_points(self, featmap_size: tuple[int, int], stride: int = 16,
                    device: Any = "cuda") -> Tensor:
        """``Tensor[H * W, 3]`` points ``(x, y, stride)`` of an ``(H, W)`` feature map."""
        feat_h, feat_w = featmap_size
        shift_x = torch.arange(0., feat_w, device=device) * stride
        shift_y = torch.arange(0., feat_h, device=device) * stride
        shift_xx, shift_yy = self._meshgrid(shift_x, shift_y)
        strides = shift_x.new_full((shift_xx.shape[0],), stride)
        return torch.stack([shift_xx, shift_yy, strides], dim=-1).to(device)

    def valid_flags(self, featmap_size: tuple[int, int], valid_size: tuple[int, int],
                    device: Any = "cuda") -> Tensor:
        """``Tensor[H * W]`` bool: the points inside the ``valid_size`` ``(h, w)`` corner."""
        feat_h, feat_w = featmap_size
        valid_h, valid_w = valid_size
        if not (valid_h <= feat_h and valid_w <= feat_w):
            raise AssertionError(f"valid size {valid_size} exceeds the feature map "
                                 f"{featmap_size}")
        valid_x = torch.zeros(feat_w, dtype=torch.bool, device=device)
        valid_y = torch.zeros(feat_h, dtype=torch.bool, device=device)
        valid_x[:valid_w] = True
        valid_y[:valid_h] = True
        valid_xx, valid_yy = self._meshgrid(valid_x, valid_y)
        return valid_xx & valid_yy
