"""Deformable convolution (DCNv1) on ``torchvision.ops.deform_conv2d``, mmcv 1.x names.

mmcv's compiled ``DeformConv2d`` and torchvision's ``deform_conv2d`` without a ``mask`` compute
the same thing with the same layout: ``offset: Tensor[B, 2 * G * kh * kw, H', W']`` holding
``(dy, dx)`` for each kernel position in turn (``G`` deformable groups), bilinear sampling with
zeros outside the input. mmcv's layer has no bias (its state_dict is ``weight`` only; the
``Pack`` adds ``conv_offset``), so checkpoints trained with mmcv load here.

>>> import torch
>>> conv = DeformConv2d(4, 8, 3, padding=1)
>>> sorted(name for name, _ in conv.named_parameters())
['weight']
>>> x = torch.randn(1, 4, 6, 6)
>>> offset = torch.zeros(1, 18, 6, 6)  # zero offsets: a plain convolution
>>> torch.allclose(conv(x, offset), torch.nn.functional.conv2d(x, conv.weight, padding=1),
...                atol=1e-5)
True
"""

from __future__ import annotations

import warnings
from typing import Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.modules.utils import _pair, _single
from torchvision.ops import deform_conv2d as tv_deform_conv2d

from detbox.registry import LAYERS

__all__ = ["DeformConv2d", "DeformConv2dPack", "deform_conv2d", "conv_output_size"]

IntPair = Union[int, tuple[int, int]]


def resolve_deform_groups(owner: str, deform_groups: int, deformable_groups: int | None) -> int:
    """``deform_groups``, or mmcv's deprecated spelling ``deformable_groups`` (with mmcv's
    deprecation warning; MMDetection configs such as TOOD's ``dconv`` ones still use it)."""
    if deformable_groups is None:
        return deform_groups
    if deform_groups not in (1, deformable_groups):
        raise ValueError(f"{owner}: got deform_groups={deform_groups} and the deprecated "
                         f"deformable_groups={deformable_groups}; give only deform_groups")
    warnings.warn(f'"deformable_groups" is deprecated in `{owner}`, please use '
                  f'"deform_groups" instead', DeprecationWarning, stacklevel=3)
    return deformable_groups


def set_conv_geometry(module: nn.Module, in_channels: int, out_channels: int,
                      kernel_size: IntPair, stride: IntPair, padding: IntPair, dilation: IntPair,
                      groups: int, deform_groups: int) -> None:
    """Give a deformable conv ``nn.Conv2d``'s attributes (``ConvModule`` reads them) and its
    ``weight: [out, in / groups, kh, kw]`` (uninitialised); channels must divide by ``groups``."""
    if in_channels % groups or out_channels % groups:
        raise ValueError(f"in_channels {in_channels} and out_channels {out_channels} must "
                         f"be divisible by groups {groups}")
    module.in_channels = in_channels
    module.out_channels = out_channels
    module.kernel_size = _pair(kernel_size)
    module.stride = _pair(stride)
    module.padding = _pair(padding)
    module.dilation = _pair(dilation)
    module.groups = groups
    module.deform_groups = deform_groups
    module.transposed = False
    module.output_padding = _single(0)
    module.weight = nn.Parameter(torch.empty(out_channels, in_channels // groups,
                                             *module.kernel_size))


def conv_output_size(in_size: tuple[int, int], kernel_size: tuple[int, int],
                     stride: tuple[int, int], padding: tuple[int, int],
                     dilation: tuple[int, int]) -> tuple[int, int]:
    """Spatial ``(H', W')`` of a convolution's output for an input of ``in_size = (H, W)``."""
    return tuple((in_size[d] + 2 * padding[d] - (dilation[d] * (kernel_size[d] - 1) + 1))
                 // stride[d] + 1 for d in range(2))


def deform_conv2d(input: Tensor, offset: Tensor, weight: Tensor, stride: IntPair = 1,
                  padding: IntPair = 0, dilation: IntPair = 1, groups: int = 1,
                  deform_groups: int = 1, bias: bool = False,
                  im2col_step: int = 32) -> Tensor:
    """DCNv1 in mmcv's argument order (``mmcv.ops.deform_conv2d``): no bias, no mask.

    Args:
        input: ``Tensor[B, C_in, H, W]``.
        offset: ``Tensor[B, 2 * deform_groups * kh * kw, H', W']``, ``(dy, dx)`` per kernel
            position; ``H', W'`` the output's size.
        weight: ``Tensor[C_out, C_in / groups, kh, kw]``.
        stride: conv stride.
        padding: conv padding.
        dilation: conv dilation.
        groups: conv groups (must agree with ``weight``).
        deform_groups: offset groups (must agree with ``offset``).
        bias: must be ``False`` (as in mmcv).
        im2col_step: accepted for mmcv's signature; the batch is one call here.

    Returns:
        ``Tensor[B, C_out, H', W']``.
    """
    if input.dim() != 4:
        raise ValueError(f"deform_conv2d: expected a 4-D input, got {input.dim()}-D")
    if bias is not False:
        raise ValueError("deform_conv2d: bias is not supported (as in mmcv)")
    stride, padding, dilation = _pair(stride), _pair(padding), _pair(dilation)
    kernel = tuple(weight.shape[-2:])
    if weight.shape[1] * groups != input.shape[1]:
        raise ValueError(f"deform_conv2d: weight {tuple(weight.shape)} with groups={groups} "
                         f"does not fit an input of {input.shape[1]} channels")
    out_size = conv_output_size(tuple(input.shape[-2:]), kernel, stride, padding, dilation)
    expected = (2 * deform_groups * kernel[0] * kernel[1], *out_size)
    if tuple(offset.shape[1:]) != expected:
        raise ValueError(f"deform_conv2d: offset of shape {tuple(offset.shape)} should be "
                         f"[B, {expected[0]}, {expected[1]}, {expected[2]}] (2 * deform_groups "
                         f"* kh * kw channels, the output's spatial size)")
    input = input.type_as(offset)  # amp: offsets come from a conv in half precision
    return tv_deform_conv2d(input, offset, weight.type_as(input), stride=stride,
                            padding=padding, dilation=dilation)


class DeformConv2d(nn.Module):
    """A DCNv1 layer whose offsets are given to ``forward`` (mmcv's class; parameter ``weight``).

    Args:
        in_channels: input channels.
        out_channels: output channels.
        kernel_size: kernel size.
        stride: stride.
        padding: padding.
        dilation: dilation.
        groups: conv groups.
        deform_groups: offset groups (each has its own offsets).
        bias: must be ``False`` (mmcv has no bias here).
        im2col_step: accepted for mmcv's signature.
        deformable_groups: mmcv's deprecated name of ``deform_groups``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntPair,
                 stride: IntPair = 1, padding: IntPair = 0, dilation: IntPair = 1,
                 groups: int = 1, deform_groups: int = 1, bias: bool = False,
                 im2col_step: int = 32, *, deformable_groups: int | None = None) -> None:
        super().__init__()
        deform_groups = resolve_deform_groups("DeformConv2d", deform_groups, deformable_groups)
        if bias:
            raise ValueError(f"bias={bias} is not supported in DeformConv2d (as in mmcv)")
        set_conv_geometry(self, in_channels, out_channels, kernel_size, stride, padding,
                          dilation, groups, deform_groups)
        self.im2col_step = im2col_step
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Kaiming-uniform weights (``nonlinearity='relu'``), as mmcv."""
        nn.init.kaiming_uniform_(self.weight, nonlinearity="relu")

    def forward(self, x: Tensor, offset: Tensor) -> Tensor:
        """``x: Tensor[B, C_in, H, W]``, ``offset: Tensor[B, 2 * G * kh * kw, H', W']``.

        An input smaller than the kernel is zero-padded at the bottom/right (with its offsets)
        and the output cropped back, as mmcv does.
        """
        pad_h = max(self.kernel_size[0] - x.size(2), 0)
        pad_w = max(self.kernel_size[1] - x.size(3), 0)
        if pad_h or pad_w:
            x = F.pad(x, (0, pad_w, 0, pad_h))
            offset = F.pad(offset, (0, pad_w, 0, pad_h))
        out = deform_conv2d(x, offset, self.weight, self.stride, self.padding, self.dilation,
                            self.groups, self.deform_groups)
        if pad_h or pad_w:
            out = out[:, :, :out.size(2) - pad_h, :out.size(3) - pad_w].contiguous()
        return out

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, dilation={self.dilation}, "
                f"groups={self.groups}, deform_groups={self.deform_groups}, bias=False")


@LAYERS.register_module(name="DCN")
class DeformConv2dPack(DeformConv2d):
    """DCNv1 that predicts its own offsets with a conv ``conv_offset`` (conv type ``DCN``).

    ``conv_offset`` has ``2 * G * kh * kw`` outputs and starts at zero (a plain conv).
    """

    _version = 2

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.conv_offset = nn.Conv2d(
            self.in_channels, self.deform_groups * 2 * self.kernel_size[0] * self.kernel_size[1],
            kernel_size=self.kernel_size, stride=self.stride, padding=self.padding,
            dilation=self.dilation, bias=True)
        nn.init.zeros_(self.conv_offset.weight)
        nn.init.zeros_(self.conv_offset.bias)

    def forward(self, x: Tensor) -> Tensor:  # type: ignore[override]
        """``Tensor[B, C_in, H, W] -> Tensor[B, C_out, H', W']``."""
        return deform_conv2d(x, self.conv_offset(x), self.weight, self.stride, self.padding,
                             self.dilation, self.groups, self.deform_groups)
