"""Dynamic Head (``type='DyHead'``; Dai et al., 2021) as a neck, MMDetection v2's.

Used after an FPN (``neck=[dict(type='FPN', ...), dict(type='DyHead', ...)]``). Each of
``num_blocks`` blocks (``dyhead_blocks.i``) applies three attentions to every level ``l``:

- spatial: a 3x3 conv (``spatial_conv_offset``) on level ``l`` predicts DCNv2 offsets (18
  channels) and a mask (9, sigmoid); three modulated deformable convs sample level ``l``
  (``spatial_conv_mid``), level ``l - 1`` with stride 2 (``spatial_conv_low``) and level
  ``l + 1`` (``spatial_conv_high``, then upsampled bilinearly, corners aligned), each followed by
  GroupNorm (16 groups);
- scale: each of those maps is weighted by ``hsigmoid(relu(conv1x1(avgpool(map))))``
  (``scale_attn_module``) and the weighted maps are averaged;
- task: a dynamic ReLU (``task_attn_module``), ``max(a1 * x + b1, a2 * x + b2)`` with
  per-channel coefficients from a squeeze-excitation branch.

The deformable convs are :class:`~detbox.models.layers.ModulatedDeformConv2d` (torchvision's
``deform_conv2d``), parameter names as mmcv's, so MMDetection's checkpoints load.
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from detbox.registry import MODELS

from ..base_module import BaseModule
from ..layers import ConvModule, ModulatedDeformConv2d, build_activation_layer, build_norm_layer
from ..weight_init import constant_init, normal_init

__all__ = ["DyHead", "DyHeadBlock", "DyDCNv2", "DyReLU"]

_HSIGMOID = dict(type="HSigmoid", bias=3.0, divisor=6.0)


class DyReLU(BaseModule):
    """Dynamic ReLU as DyHead's task-aware attention.

    ``coeffs = conv2(conv1(avgpool(x))) - 0.5`` (``conv1``: 1x1 to ``channels / ratio`` with
    ReLU, ``conv2``: 1x1 to ``4 * channels`` with hard sigmoid) split into ``a1, b1, a2, b2``;
    the output is ``max(x * (2 a1 + 1) + b1, x * 2 a2 + b2)``.

    Args:
        channels: input and output channels.
        ratio: squeeze ratio.
        conv_cfg: conv layer config.
        act_cfg: the two activations (a dict is used for both).
        init_cfg: initialisation config.
    """

    def __init__(self, channels: int, ratio: int = 4, conv_cfg: dict | None = None,
                 act_cfg: dict | Sequence[dict] = (dict(type="ReLU"), _HSIGMOID),
                 init_cfg: dict | list | None = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if isinstance(act_cfg, dict):
            act_cfg = (act_cfg, act_cfg)
        if len(act_cfg) != 2 or not all(isinstance(c, dict) for c in act_cfg):
            raise AssertionError(f"act_cfg must be a dict or two dicts, got {act_cfg!r}")
        self.channels = channels
        self.expansion = 4  # a1, b1, a2, b2
        self.global_avgpool = nn.AdaptiveAvgPool2d(1)
        self.conv1 = ConvModule(channels, int(channels / ratio), 1, stride=1, conv_cfg=conv_cfg,
                                act_cfg=act_cfg[0])
        self.conv2 = ConvModule(int(channels / ratio), channels * self.expansion, 1, stride=1,
                                conv_cfg=conv_cfg, act_cfg=act_cfg[1])

    def forward(self, x: Tensor) -> Tensor:
        """``Tensor[N, C, H, W]`` -> same shape."""
        coeffs = self.conv2(self.conv1(self.global_avgpool(x))) - 0.5  # in [-0.5, 0.5]
        a1, b1, a2, b2 = torch.split(coeffs, self.channels, dim=1)
        return torch.max(x * (a1 * 2.0 + 1.0) + b1, x * (a2 * 2.0) + b2)


class DyDCNv2(nn.Module):
    """A 3x3 modulated deformable conv (offsets and mask given) followed by a norm.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        stride: conv stride.
        norm_cfg: norm config (GN, 16 groups, by default); ``None`` gives a conv bias instead.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1,
                 norm_cfg: dict | None = dict(  # noqa: B006 (never mutated)
                     type="GN", num_groups=16, requires_grad=True)) -> None:
        super().__init__()
        self.with_norm = norm_cfg is not None
        self.conv = ModulatedDeformConv2d(in_channels, out_channels, 3, stride=stride,
                                          padding=1, bias=not self.with_norm)
        if self.with_norm:
            self.norm = build_norm_layer(norm_cfg, out_channels)[1]

    def forward(self, x: Tensor, offset: Tensor, mask: Tensor) -> Tensor:
        x = self.conv(x.contiguous(), offset.contiguous(), mask)
        return self.norm(x) if self.with_norm else x


class DyHeadBlock(nn.Module):
    """One DyHead block: spatial, scale and task attention over all levels.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        zero_init_offset: start ``spatial_conv_offset`` at zero (regular sampling, mask 0.5).
        act_cfg: last activation of the scale attention (hard sigmoid, DyHead's constants).
    """

    def __init__(self, in_channels: int, out_channels: int, zero_init_offset: bool = True,
                 act_cfg: dict = _HSIGMOID) -> None:
        super().__init__()
        self.zero_init_offset = zero_init_offset
        self.offset_and_mask_dim = 3 * 3 * 3
        self.offset_dim = 2 * 3 * 3
        self.spatial_conv_high = DyDCNv2(in_channels, out_channels)
        self.spatial_conv_mid = DyDCNv2(in_channels, out_channels)
        self.spatial_conv_low = DyDCNv2(in_channels, out_channels, stride=2)
        self.spatial_conv_offset = nn.Conv2d(in_channels, self.offset_and_mask_dim, 3, padding=1)
        self.scale_attn_module = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Conv2d(out_channels, 1, 1), nn.ReLU(inplace=True),
            build_activation_layer(dict(act_cfg)))
        self.task_attn_module = DyReLU(out_channels)
        self._init_weights()

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                normal_init(m, 0, 0.01)
        if self.zero_init_offset:
            constant_init(self.spatial_conv_offset, 0)

    def forward(self, x: Sequence[Tensor]) -> list[Tensor]:
        """Levels ``Tensor[N, C, H_l, W_l]`` (finest first, each half the size of the one
        before) -> the same number of ``Tensor[N, out_channels, H_l, W_l]``."""
        outs = []
        for level in range(len(x)):
            offset_and_mask = self.spatial_conv_offset(x[level])
            offset = offset_and_mask[:, :self.offset_dim, :, :]
            mask = offset_and_mask[:, self.offset_dim:, :, :].sigmoid()
            mid_feat = self.spatial_conv_mid(x[level], offset, mask)
            sum_feat = mid_feat * self.scale_attn_module(mid_feat)
            summed_levels = 1
            if level > 0:
                low_feat = self.spatial_conv_low(x[level - 1], offset, mask)
                sum_feat = sum_feat + low_feat * self.scale_attn_module(low_feat)
                summed_levels += 1
            if level < len(x) - 1:
                high_feat = F.interpolate(self.spatial_conv_high(x[level + 1], offset, mask),
                                          size=x[level].shape[-2:], mode="bilinear",
                                          align_corners=True)
                sum_feat = sum_feat + high_feat * self.scale_attn_module(high_feat)
                summed_levels += 1
            outs.append(self.task_attn_module(sum_feat / summed_levels))
        return outs


@MODELS.register_module()
class DyHead(BaseModule):
    """``num_blocks`` DyHead blocks applied in sequence (``dyhead_blocks.i``).

    Args:
        in_channels: input channels (of every level).
        out_channels: output channels.
        num_blocks: number of blocks.
        zero_init_offset: start the offset convs at zero.
        init_cfg: must stay ``None``: the blocks initialise themselves.
    """

    def __init__(self, in_channels: int, out_channels: int, num_blocks: int = 6,
                 zero_init_offset: bool = True, init_cfg: dict | list | None = None) -> None:
        if init_cfg is not None:
            raise AssertionError("DyHead initialises its own blocks; init_cfg is not allowed")
        super().__init__(init_cfg=init_cfg)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.num_blocks = num_blocks
        self.zero_init_offset = zero_init_offset
        self.dyhead_blocks = nn.Sequential(*[
            DyHeadBlock(in_channels if i == 0 else out_channels, out_channels,
                        zero_init_offset=zero_init_offset)
            for i in range(num_blocks)])

    def forward(self, inputs: Sequence[Tensor]) -> tuple[Tensor, ...]:
        """Levels ``Tensor[N, in_channels, H_l, W_l]`` -> ``Tensor[N, out_channels, H_l, W_l]``."""
        if not isinstance(inputs, (tuple, list)):
            raise AssertionError(f"DyHead takes a tuple or list of levels, got {type(inputs)}")
        return tuple(self.dyhead_blocks(inputs))
