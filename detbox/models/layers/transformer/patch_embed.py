"""``PatchEmbed``: image to patch tokens with one strided convolution (MMDetection v2's).

State_dict: ``projection.{weight,bias}`` and, with ``norm_cfg``, ``norm.{weight,bias}``.

>>> import torch
>>> embed = PatchEmbed(in_channels=3, embed_dims=8, kernel_size=4, stride=4,
...                    norm_cfg=dict(type='LN'))
>>> tokens, hw = embed(torch.zeros(2, 3, 18, 21))
>>> tuple(tokens.shape), hw
((2, 30, 8), (5, 6))
"""

from __future__ import annotations

from typing import Sequence

from torch import Tensor

from ...base_module import BaseModule
from ..conv import build_conv_layer
from ..norm import build_norm_layer
from .adaptive_padding import split_padding
from .layout import to_2tuple

__all__ = ["PatchEmbed"]


class PatchEmbed(BaseModule):
    """Split an image into patches with a convolution and flatten them to a token sequence.

    Args:
        in_channels: image channels.
        embed_dims: token channels.
        conv_type: conv layer type of the projection.
        kernel_size: patch size.
        stride: patch stride (``kernel_size`` when ``None``).
        padding: an int/tuple for the conv, or ``'corner'`` / ``'same'`` for
            :class:`AdaptivePadding` (then the conv has no padding).
        dilation: conv dilation.
        bias: conv bias.
        norm_cfg: norm over the tokens (``dict(type='LN')``), or ``None``.
        input_size: if given, ``init_out_size`` is the token grid of an input of this size.
        init_cfg: initialisation config.
    """

    def __init__(self, in_channels: int = 3, embed_dims: int = 768, conv_type: str = "Conv2d",
                 kernel_size: int | Sequence[int] = 16, stride: int | Sequence[int] | None = 16,
                 padding: int | Sequence[int] | str = "corner",
                 dilation: int | Sequence[int] = 1, bias: bool = True,
                 norm_cfg: dict | None = None, input_size: int | Sequence[int] | None = None,
                 init_cfg: dict | list | None = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.embed_dims = embed_dims
        if stride is None:
            stride = kernel_size
        kernel_size, stride, dilation = to_2tuple(kernel_size), to_2tuple(stride), \
            to_2tuple(dilation)
        self.adap_padding, padding = split_padding(padding, kernel_size, stride, dilation)
        self.projection = build_conv_layer(
            dict(type=conv_type), in_channels=in_channels, out_channels=embed_dims,
            kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation,
            bias=bias)
        self.norm = build_norm_layer(norm_cfg, embed_dims)[1] if norm_cfg is not None else None

        self.init_input_size: tuple | None = None
        self.init_out_size: tuple | None = None
        if input_size:
            input_size = to_2tuple(input_size)
            self.init_input_size = input_size
            if self.adap_padding is not None:
                pad_h, pad_w = self.adap_padding.get_pad_shape(input_size)
                input_size = (input_size[0] + pad_h, input_size[1] + pad_w)
            self.init_out_size = tuple(
                (input_size[i] + 2 * padding[i] - dilation[i] * (kernel_size[i] - 1) - 1)
                // stride[i] + 1 for i in range(2))

    def forward(self, x: Tensor) -> tuple[Tensor, tuple[int, int]]:
        """``Tensor[B, C, H, W]`` -> (``Tensor[B, h * w, embed_dims]``, ``(h, w)``)."""
        if self.adap_padding is not None:
            x = self.adap_padding(x)
        x = self.projection(x)
        out_size = (x.shape[2], x.shape[3])
        x = x.flatten(2).transpose(1, 2)  # [B, h * w, C]
        if self.norm is not None:
            x = self.norm(x)
        return x, out_size
