"""``PatchMerging``: merge each ``k x k`` group of tokens into one (MMDetection v2's, via unfold).

The merged feature of a group is ``nn.Unfold``'s channel order: channel-major, then the
``k x k`` positions row by row (``c0@(0,0), c0@(0,1), c0@(1,0), c0@(1,1), c1@(0,0), ...`` for
``k = 2``), which differs from the original Swin release's concatenation
(``x[0::2, 0::2], x[1::2, 0::2], x[0::2, 1::2], x[1::2, 1::2]``); see
:func:`detbox.models.backbones.swin_converter.swin_converter`.
State_dict: ``norm.{weight,bias}`` (over ``k * k * in_channels``) and ``reduction.weight``.

>>> import torch
>>> merge = PatchMerging(in_channels=4, out_channels=8)
>>> out, hw = merge(torch.zeros(2, 5 * 7, 4), (5, 7))
>>> tuple(out.shape), hw
((2, 12, 8), (3, 4))
"""

from __future__ import annotations

from typing import Sequence

from torch import Tensor, nn

from ...base_module import BaseModule
from ..norm import build_norm_layer
from .adaptive_padding import split_padding
from .layout import to_2tuple

__all__ = ["PatchMerging"]


class PatchMerging(BaseModule):
    """Group ``kernel_size`` neighbourhoods, normalise and project them linearly.

    Args:
        in_channels: token channels in.
        out_channels: token channels out.
        kernel_size: group size.
        stride: group stride (``kernel_size`` when ``None``).
        padding: an int/tuple for the unfold, or ``'corner'`` / ``'same'`` adaptive padding.
        dilation: unfold dilation.
        bias: bias of the linear reduction.
        norm_cfg: norm over the merged ``k * k * in_channels`` features, or ``None``.
        init_cfg: initialisation config.
    """

    def __init__(self, in_channels: int, out_channels: int,
                 kernel_size: int | Sequence[int] = 2, stride: int | Sequence[int] | None = None,
                 padding: int | Sequence[int] | str = "corner",
                 dilation: int | Sequence[int] = 1, bias: bool = False,
                 norm_cfg: dict | None = dict(type="LN"),  # noqa: B006 (never mutated)
                 init_cfg: dict | list | None = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.in_channels = in_channels
        self.out_channels = out_channels
        stride = stride if stride else kernel_size
        kernel_size, stride, dilation = to_2tuple(kernel_size), to_2tuple(stride), \
            to_2tuple(dilation)
        self.adap_padding, padding = split_padding(padding, kernel_size, stride, dilation)
        self.sampler = nn.Unfold(kernel_size=kernel_size, dilation=dilation, padding=padding,
                                 stride=stride)
        sample_dim = kernel_size[0] * kernel_size[1] * in_channels
        self.norm = build_norm_layer(norm_cfg, sample_dim)[1] if norm_cfg is not None else None
        self.reduction = nn.Linear(sample_dim, out_channels, bias=bias)

    def forward(self, x: Tensor, input_size: Sequence[int]) -> tuple[Tensor, tuple[int, int]]:
        """``Tensor[B, H * W, C_in]`` on an ``(H, W)`` grid -> (``Tensor[B, h * w, C_out]``,
        ``(h, w)``)."""
        batch, length, channels = x.shape
        if not isinstance(input_size, Sequence):
            raise TypeError(f"input_size must be a sequence (H, W), got {input_size!r}")
        height, width = input_size
        if length != height * width:
            raise ValueError(f"{length} tokens do not fill a {height} x {width} grid")
        x = x.view(batch, height, width, channels).permute(0, 3, 1, 2)  # [B, C, H, W]
        if self.adap_padding is not None:
            x = self.adap_padding(x)
            height, width = x.shape[-2:]
        x = self.sampler(x)  # [B, k*k*C, h*w]
        s = self.sampler
        out_hw = tuple((size + 2 * s.padding[i] - s.dilation[i] * (s.kernel_size[i] - 1) - 1)
                       // s.stride[i] + 1 for i, size in enumerate((height, width)))
        x = x.transpose(1, 2)  # [B, h*w, k*k*C]
        if self.norm is not None:
            x = self.norm(x)
        return self.reduction(x), out_hw
