"""Token layout helpers: ``[N, L, C]`` sequences and ``[N, C, H, W]`` maps (``L = H * W``).

>>> import torch
>>> x = torch.arange(24.).view(1, 4, 2, 3)
>>> seq = nchw_to_nlc(x)
>>> tuple(seq.shape), bool((nlc_to_nchw(seq, (2, 3)) == x).all())
((1, 6, 4), True)
"""

from __future__ import annotations

from typing import Sequence

from torch import Tensor

__all__ = ["nlc_to_nchw", "nchw_to_nlc", "to_2tuple"]


def to_2tuple(value: int | Sequence[int] | str) -> tuple:
    """``value`` twice when it is a scalar (or a string), else ``tuple(value)``.

    >>> to_2tuple(3), to_2tuple((2, 4)), to_2tuple('corner')
    ((3, 3), (2, 4), ('corner', 'corner'))
    """
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        return (value, value)
    return tuple(value)


def nlc_to_nchw(x: Tensor, hw_shape: Sequence[int]) -> Tensor:
    """``Tensor[N, L, C]`` -> ``Tensor[N, C, H, W]`` with ``(H, W) = hw_shape``."""
    height, width = hw_shape
    if x.dim() != 3:
        raise ValueError(f"nlc_to_nchw expects a [N, L, C] tensor, got shape {tuple(x.shape)}")
    batch, length, channels = x.shape
    if length != height * width:
        raise ValueError(f"sequence length {length} does not match H * W = {height} * {width}")
    return x.transpose(1, 2).reshape(batch, channels, height, width).contiguous()


def nchw_to_nlc(x: Tensor) -> Tensor:
    """``Tensor[N, C, H, W]`` -> ``Tensor[N, H * W, C]``."""
    if x.dim() != 4:
        raise ValueError(f"nchw_to_nlc expects a [N, C, H, W] tensor, got shape {tuple(x.shape)}")
    return x.flatten(2).transpose(1, 2).contiguous()
