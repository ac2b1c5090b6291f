"""Merge cells of two feature maps (mmcv 1.x's ``SumCell``, ``ConcatCell``,
``GlobalPoolingCell``), used by the NAS-FCOS neck.

Each input may first go through a 3x3 ``input{1,2}_conv`` ConvModule; both are resized to
``out_size`` (default: the lexicographically larger spatial size) by nearest/bilinear
upsampling or by zero-padding and max-pooling; then the binary op; then an optional
``out_conv`` ConvModule.

>>> cell = ConcatCell(4, 4, out_conv_cfg=dict(kernel_size=1, bias=False))
>>> tuple(cell(torch.zeros(1, 4, 8, 8), torch.zeros(1, 4, 4, 4)).shape)
(1, 4, 8, 8)
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .conv_module import ConvModule

__all__ = ["BaseMergeCell", "SumCell", "ConcatCell", "GlobalPoolingCell"]


class BaseMergeCell(nn.Module):
    """Two inputs -> optional input convs -> resize -> binary op -> optional output conv.

    Args:
        fused_channels: channels after the binary op (input of ``out_conv``).
        out_channels: channels of the output (and of the input convs).
        with_out_conv: add ``out_conv``.
        out_conv_cfg: ConvModule arguments of ``out_conv`` (kernel, padding, bias, groups).
        out_norm_cfg: norm of ``out_conv``.
        out_conv_order: layer order of ``out_conv``.
        with_input1_conv: a 3x3 conv on the first input.
        with_input2_conv: a 3x3 conv on the second input.
        input_conv_cfg: conv layer config of the input convs.
        input_norm_cfg: norm of the input convs.
        upsample_mode: ``'nearest'`` or ``'bilinear'``.
    """

    def __init__(self, fused_channels: int = 256, out_channels: int = 256,
                 with_out_conv: bool = True, out_conv_cfg: dict | None = None,
                 out_norm_cfg: dict | None = None,
                 out_conv_order: tuple = ("act", "conv", "norm"),
                 with_input1_conv: bool = False, with_input2_conv: bool = False,
                 input_conv_cfg: dict | None = None, input_norm_cfg: dict | None = None,
                 upsample_mode: str = "nearest") -> None:
        super().__init__()
        if upsample_mode not in ("nearest", "bilinear"):
            raise AssertionError(f"upsample_mode must be 'nearest' or 'bilinear', got "
                                 f"{upsample_mode!r}")
        if out_conv_cfg is None:
            out_conv_cfg = dict(groups=1, kernel_size=3, padding=1, bias=True)
        self.with_out_conv = with_out_conv
        self.with_input1_conv = with_input1_conv
        self.with_input2_conv = with_input2_conv
        self.upsample_mode = upsample_mode
        if with_out_conv:
            self.out_conv = ConvModule(fused_channels, out_channels, **out_conv_cfg,
                                       norm_cfg=out_norm_cfg, order=out_conv_order)
        self.input1_conv = (self._build_input_conv(out_channels, input_conv_cfg,
                                                   input_norm_cfg)
                            if with_input1_conv else nn.Sequential())
        self.input2_conv = (self._build_input_conv(out_channels, input_conv_cfg,
                                                   input_norm_cfg)
                            if with_input2_conv else nn.Sequential())

    @staticmethod
    def _build_input_conv(channels: int, conv_cfg: dict | None, norm_cfg: dict | None
                          ) -> ConvModule:
        return ConvModule(channels, channels, 3, padding=1, conv_cfg=conv_cfg,
                          norm_cfg=norm_cfg, bias=True)

    def _binary_op(self, x1: Tensor, x2: Tensor) -> Tensor:
        raise NotImplementedError

    def _resize(self, x: Tensor, size: tuple[int, int]) -> Tensor:
        if tuple(x.shape[-2:]) == tuple(size):
            return x
        if tuple(x.shape[-2:]) < tuple(size):
            return F.interpolate(x, size=size, mode=self.upsample_mode)
        h, w = x.shape[-2:]
        if h % size[-2] != 0 or w % size[-1] != 0:
            pad_h = math.ceil(h / size[0]) * size[0] - h
            pad_w = math.ceil(w / size[1]) * size[1] - w
            pad = (pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2)
            x = F.pad(x, pad, mode="constant", value=0.0)
        kernel = (x.shape[-2] // size[-2], x.shape[-1] // size[-1])
        return F.max_pool2d(x, kernel_size=kernel, stride=kernel)

    def forward(self, x1: Tensor, x2: Tensor, out_size: tuple[int, int] | None = None
                ) -> Tensor:
        if x1.shape[:2] != x2.shape[:2]:
            raise AssertionError(f"merge cell inputs differ in batch or channels: "
                                 f"{tuple(x1.shape)} vs {tuple(x2.shape)}")
        if out_size is None:
            out_size = max(tuple(x1.shape[2:]), tuple(x2.shape[2:]))
        x = self._binary_op(self._resize(self.input1_conv(x1), out_size),
                            self._resize(self.input2_conv(x2), out_size))
        return self.out_conv(x) if self.with_out_conv else x


class SumCell(BaseMergeCell):
    """``x1 + x2``."""

    def __init__(self, in_channels: int, out_channels: int, **kwargs) -> None:
        super().__init__(in_channels, out_channels, **kwargs)

    def _binary_op(self, x1: Tensor, x2: Tensor) -> Tensor:
        return x1 + x2


class ConcatCell(BaseMergeCell):
    """``cat([x1, x2])`` (twice the channels into ``out_conv``)."""

    def __init__(self, in_channels: int, out_channels: int, **kwargs) -> None:
        super().__init__(in_channels * 2, out_channels, **kwargs)

    def _binary_op(self, x1: Tensor, x2: Tensor) -> Tensor:
        return torch.cat([x1, x2], dim=1)


class GlobalPoolingCell(BaseMergeCell):
    """``x2 + sigmoid(global_avg_pool(x2)) * x1``."""

    def __init__(self, in_channels: int | None = None, out_channels: int | None = None,
                 **kwargs) -> None:
        super().__init__(in_channels, out_channels, **kwargs)
        self.global_pool = nn.AdaptiveAvgPool2d((1, 1))

    def _binary_op(self, x1: Tensor, x2: Tensor) -> Tensor:
        return x2 + self.global_pool(x2).sigmoid() * x1
