"""Modulated deformable convolution (DCNv2) on ``torchvision.ops.deform_conv2d``, mmcv 1.x names.

mmcv's compiled ``ModulatedDeformConv2d`` and torchvision's ``deform_conv2d`` with a ``mask``
compute the same thing with the same layouts: ``offset: Tensor[B, 2 * G * kh * kw, H', W']``
holding ``(dy, dx)`` for each kernel position in turn, ``mask: Tensor[B, G * kh * kw, H', W']``
(``G`` deformable groups), bilinear sampling with zeros outside the input. So checkpoints trained
with mmcv load here (parameters ``weight``, ``bias``, and ``conv_offset`` for the ``Pack``).

>>> import torch
>>> conv = ModulatedDeformConv2dPack(4, 8, 3, padding=1)
>>> sorted(name for name, _ in conv.named_parameters())
['bias', 'conv_offset.bias', 'conv_offset.weight', 'weight']
>>> x = torch.randn(1, 4, 6, 6)
>>> # zero offsets and a mask of 0.5 (sigmoid of 0): half of a plain convolution
>>> torch.allclose(conv(x), 0.5 * torch.nn.functional.conv2d(x, conv.weight, padding=1)
...                + conv.bias.view(1, -1, 1, 1), atol=1e-5)
True
"""

from __future__ import annotations

import math
from typing import Union

import torch
from torch import Tensor, nn
from torch.nn.modules.utils import _pair
from torchvision.ops import deform_conv2d

from detbox.registry import LAYERS

from .deform_conv import conv_output_size, resolve_deform_groups, set_conv_geometry

__all__ = ["ModulatedDeformConv2d", "ModulatedDeformConv2dPack", "modulated_deform_conv2d"]

IntPair = Union[int, tuple[int, int]]


def modulated_deform_conv2d(x: Tensor, offset: Tensor, mask: Tensor, weight: Tensor,
                            bias: Tensor | None = None, stride: IntPair = 1,
                            padding: IntPair = 0, dilation: IntPair = 1) -> Tensor:
    """DCNv2: a convolution sampling ``x`` at offset positions, each sample scaled by ``mask``.

    Args:
        x: ``Tensor[B, C_in, H, W]``.
        offset: ``Tensor[B, 2 * G * kh * kw, H', W']`` ``(dy, dx)`` per kernel position.
        mask: ``Tensor[B, G * kh * kw, H', W']`` modulation (usually a sigmoid).
        weight: ``Tensor[C_out, C_in / groups, kh, kw]``.
        bias: ``Tensor[C_out]`` or ``None``.
        stride: conv stride.
        padding: conv padding.
        dilation: conv dilation.

    Returns:
        ``Tensor[B, C_out, H', W']``.
    """
    stride, padding, dilation = _pair(stride), _pair(padding), _pair(dilation)
    out_size = conv_output_size(tuple(x.shape[-2:]), tuple(weight.shape[-2:]), stride, padding,
                                dilation)
    x = x.type_as(offset)
    offset = _as_mmcv_reads(offset, out_size, "offset")
    mask = _as_mmcv_reads(mask.type_as(x), out_size, "mask")
    return deform_conv2d(x, offset, weight.type_as(x), bias=bias, stride=stride,
                         padding=padding, dilation=dilation, mask=mask)


def _as_mmcv_reads(t: Tensor, out_size: tuple[int, int], name: str) -> Tensor:
    """``t`` as mmcv's kernel reads it for an output of ``out_size``.

    mmcv does not check the spatial size of ``offset`` and ``mask``: it reads each image's
    buffer (row-major) as if it had the output's size. DyHead relies on this: its
    ``spatial_conv_high`` runs on the coarser level with the finer level's offsets, so only
    the first ``C * H_out * W_out`` values of each image's offsets are used. Reproduced here.
    """
    if tuple(t.shape[-2:]) == out_size:
        return t
    channels = t.shape[1]
    needed = channels * out_size[0] * out_size[1]
    if t[0].numel() < needed:
        raise ValueError(f"modulated_deform_conv2d: {name} of spatial size "
                         f"{tuple(t.shape[-2:])} is smaller than the output {out_size}")
    return t.reshape(t.shape[0], -1)[:, :needed].reshape(t.shape[0], channels, *out_size)


class ModulatedDeformConv2d(nn.Module):
    """A DCNv2 layer whose offsets and mask are given to ``forward`` (mmcv's class).

    Args:
        in_channels: input channels.
        out_channels: output channels.
        kernel_size: kernel size.
        stride: stride.
        padding: padding.
        dilation: dilation.
        groups: conv groups.
        deform_groups: offset groups (each has its own offsets and mask).
        bias: learn a bias.
        deformable_groups: mmcv's deprecated name of ``deform_groups``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntPair,
                 stride: IntPair = 1, padding: IntPair = 0, dilation: IntPair = 1,
                 groups: int = 1, deform_groups: int = 1, bias: bool | str = True, *,
                 deformable_groups: int | None = None) -> None:
        super().__init__()
        deform_groups = resolve_deform_groups("ModulatedDeformConv2d", deform_groups,
                                              deformable_groups)
        set_conv_geometry(self, in_channels, out_channels, kernel_size, stride, padding,
                          dilation, groups, deform_groups)
        if bias:
            self.bias = nn.Parameter(torch.empty(out_channels))
        else:
            self.register_parameter("bias", None)
        self.init_weights()

    def init_weights(self) -> None:
        """Uniform ``(-1/sqrt(n), 1/sqrt(n))`` weights, ``n = in_channels * kh * kw``; zero bias."""
        n = self.in_channels * self.kernel_size[0] * self.kernel_size[1]
        stdv = 1.0 / math.sqrt(n)
        with torch.no_grad():
            self.weight.uniform_(-stdv, stdv)
            if self.bias is not None:
                self.bias.zero_()

    def forward(self, x: Tensor, offset: Tensor, mask: Tensor) -> Tensor:
        """See :func:`modulated_deform_conv2d`."""
        return modulated_deform_conv2d(x, offset, mask, self.weight, self.bias, self.stride,
                                       self.padding, self.dilation)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, dilation={self.dilation}, "
                f"groups={self.groups}, deform_groups={self.deform_groups}, "
                f"bias={self.bias is not None}")


@LAYERS.register_module(name="DCNv2")
class ModulatedDeformConv2dPack(ModulatedDeformConv2d):
    """DCNv2 that predicts its own offsets and mask with a conv ``conv_offset`` (type ``DCNv2``).

    ``conv_offset`` has ``3 * G * kh * kw`` outputs: the first two thirds are the offsets, the
    last third the mask logits (sigmoid). It starts at zero: a plain conv with half weights.
    (mmcv also renames keys ``<name>_offset`` of pre-2019 checkpoints; PyTorch 2 no longer
    hands a module the keys outside its own prefix, so that is not reproduced.)
    """

    _version = 2

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.conv_offset = nn.Conv2d(
            self.in_channels, self.deform_groups * 3 * self.kernel_size[0] * self.kernel_size[1],
            kernel_size=self.kernel_size, stride=self.stride, padding=self.padding,
            dilation=self.dilation, bias=True)
        self.init_weights()

    def init_weights(self) -> None:
        super().init_weights()
        if hasattr(self, "conv_offset"):
            nn.init.zeros_(self.conv_offset.weight)
            nn.init.zeros_(self.conv_offset.bias)

    def forward(self, x: Tensor) -> Tensor:  # type: ignore[override]
        """``Tensor[B, C_in, H, W] -> Tensor[B, C_out, H', W']``."""
        out = self.conv_offset(x)
        o1, o2, mask = torch.chunk(out, 3, dim=1)
        offset = torch.cat((o1, o2), dim=1)
        return modulated_deform_conv2d(x, offset, torch.sigmoid(mask), self.weight, self.bias,
                                       self.stride, self.padding, self.dilation)
