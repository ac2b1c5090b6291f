"""``AdaptivePadding``: zero padding so that a strided window covers the whole input.

``'corner'`` pads at the bottom and right only; ``'same'`` splits the padding over both sides
(TensorFlow's ``SAME``), the extra pixel going to the bottom/right.

>>> import torch
>>> pad = AdaptivePadding(kernel_size=16, stride=16, padding='corner')
>>> tuple(pad(torch.zeros(1, 1, 15, 17)).shape[-2:])
(16, 32)
"""

from __future__ import annotations

import math
from typing import Sequence

import torch.nn.functional as F
from torch import Tensor, nn

from .layout import to_2tuple

__all__ = ["AdaptivePadding", "split_padding"]


class AdaptivePadding(nn.Module):
    """Pad an input so that ``ceil(size / stride)`` windows of ``kernel_size`` fit exactly.

    Args:
        kernel_size: window size (int or ``(h, w)``).
        stride: window stride.
        dilation: window dilation.
        padding: ``'corner'`` (bottom/right) or ``'same'`` (both sides).
    """

    def __init__(self, kernel_size: int | Sequence[int] = 1, stride: int | Sequence[int] = 1,
                 dilation: int | Sequence[int] = 1, padding: str = "corner") -> None:
        super().__init__()
        if padding not in ("same", "corner"):
            raise ValueError(f"padding must be 'same' or 'corner', got {padding!r}")
        self.padding = to_2tuple(padding)
        self.kernel_size = to_2tuple(kernel_size)
        self.stride = to_2tuple(stride)
        self.dilation = to_2tuple(dilation)

    def get_pad_shape(self, input_shape: Sequence[int]) -> tuple[int, int]:
        """``(pad_h, pad_w)`` for an input of spatial size ``(H, W)``."""
        pads = []
        for size, kernel, stride, dilation in zip(input_shape, self.kernel_size, self.stride,
                                                  self.dilation):
            out = math.ceil(size / stride)
            pads.append(max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0))
        return pads[0], pads[1]

    def forward(self, x: Tensor) -> Tensor:
        """``Tensor[..., H, W]`` -> ``Tensor[..., H + pad_h, W + pad_w]``."""
        pad_h, pad_w = self.get_pad_shape(x.shape[-2:])
        if pad_h > 0 or pad_w > 0:
            if self.padding[0] == "corner":
                x = F.pad(x, [0, pad_w, 0, pad_h])
            else:
                x = F.pad(x, [pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2])
        return x


def split_padding(padding: int | Sequence[int] | str, kernel_size: tuple[int, int],
                  stride: tuple[int, int], dilation: tuple[int, int]
                  ) -> tuple[AdaptivePadding | None, tuple[int, int]]:
    """A ``padding`` argument as mmcv's patch layers take it: a string becomes an
    :class:`AdaptivePadding` and no fixed padding, a number or pair stays the fixed padding."""
    if isinstance(padding, str):
        return AdaptivePadding(kernel_size=kernel_size, stride=stride, dilation=dilation,
                               padding=padding), (0, 0)
    return None, to_2tuple(padding)
