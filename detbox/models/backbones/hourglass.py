"""``HourglassNet``: the stacked-hourglass backbone of CornerNet (MMDetection v2's names).

A stem (7x7 stride-2 ``ConvModule`` then a stride-2 ``ResLayer`` of one ``BasicBlock``), then
``num_stacks`` recursive ``HourglassModule`` s. Each stack's output goes through ``out_convs``;
between stacks the running feature is ``inters[i](relu(conv1x1s[i](x) + remap_convs[i](out)))``.
Every stack's output is returned (intermediate supervision), all at stride 4.

>>> import torch
>>> net = HourglassNet(downsample_times=2, num_stacks=2, stage_channels=(8, 8, 16),
...                    stage_blocks=(1, 1, 1), feat_channel=8)
>>> [tuple(f.shape) for f in net(torch.zeros(1, 3, 32, 32))]
[(1, 8, 8, 8), (1, 8, 8, 8)]
"""

from __future__ import annotations

from typing import Sequence

import torch.nn.functional as F
from torch import Tensor, nn

from ...registry import MODELS
from ..base_module import BaseModule
from ..layers import ConvModule, ResLayer
from .resnet import BasicBlock

__all__ = ["HourglassModule", "HourglassNet"]

_BN = dict(type="BN", requires_grad=True)


class HourglassModule(BaseModule):
    """One hourglass of depth ``depth``: ``up1`` keeps the resolution, ``low1`` halves it,
    ``low2`` recurses (or is a plain ``ResLayer`` at depth 1), ``low3`` restores the channels,
    and the upsampled ``low3`` is added to ``up1``.

    Args:
        depth: recursion depth.
        stage_channels: channels of this level and the deeper ones.
        stage_blocks: ``BasicBlock`` count of this level and the deeper ones.
        norm_cfg: norm config of this level (MMDetection passes it to the outermost level
            only; the deeper levels use the default BN, reproduced here).
        init_cfg: init config.
        upsample_cfg: arguments of ``F.interpolate`` (``size`` is ``up1``'s unless a
            ``scale_factor`` is given).
    """

    def __init__(self, depth: int, stage_channels: Sequence[int], stage_blocks: Sequence[int],
                 norm_cfg: dict = _BN, init_cfg: dict | list | None = None,
                 upsample_cfg: dict | None = None) -> None:
        super().__init__(init_cfg)
        self.depth = depth
        cur_block, next_block = stage_blocks[0], stage_blocks[1]
        cur_channel, next_channel = stage_channels[0], stage_channels[1]
        self.up1 = ResLayer(BasicBlock, cur_channel, cur_channel, cur_block, norm_cfg=norm_cfg)
        self.low1 = ResLayer(BasicBlock, cur_channel, next_channel, cur_block, stride=2,
                             norm_cfg=norm_cfg)
        if depth > 1:
            self.low2: nn.Module = HourglassModule(depth - 1, stage_channels[1:],
                                                   stage_blocks[1:])
        else:
            self.low2 = ResLayer(BasicBlock, next_channel, next_channel, next_block,
                                 norm_cfg=norm_cfg)
        self.low3 = ResLayer(BasicBlock, next_channel, cur_channel, cur_block,
                             norm_cfg=norm_cfg, downsample_first=False)
        self.upsample_cfg = dict(mode="nearest") if upsample_cfg is None else dict(upsample_cfg)

    def forward(self, x: Tensor) -> Tensor:
        """``Tensor[N, C0, H, W] -> Tensor[N, C0, H, W]``."""
        up1 = self.up1(x)
        low3 = self.low3(self.low2(self.low1(x)))
        if "scale_factor" in self.upsample_cfg:
            up2 = F.interpolate(low3, **self.upsample_cfg)
        else:
            up2 = F.interpolate(low3, size=up1.shape[2:], **self.upsample_cfg)
        return up1 + up2


@MODELS.register_module()
class HourglassNet(BaseModule):
    """Stacked hourglass network (Hourglass-104: ``num_stacks=2``; Hourglass-52: 1).

    Args:
        downsample_times: depth of each hourglass.
        num_stacks: number of stacked hourglasses.
        stage_channels: channels of each hourglass level (longer than ``downsample_times``).
        stage_blocks: ``BasicBlock`` count of each level (same length).
        feat_channel: channels of each returned feature.
        norm_cfg: norm config.
        pretrained: accepted and ignored, as in MMDetection.
        init_cfg: must be ``None`` (MMDetection refuses it too).
    """

    def __init__(self, downsample_times: int = 5, num_stacks: int = 2,
                 stage_channels: Sequence[int] = (256, 256, 384, 384, 384, 512),
                 stage_blocks: Sequence[int] = (2, 2, 2, 2, 2, 4), feat_channel: int = 256,
                 norm_cfg: dict = _BN, pretrained: str | None = None,
                 init_cfg: dict | list | None = None) -> None:
        if init_cfg is not None:
            raise ValueError("HourglassNet: init_cfg is not allowed to be set (to prevent "
                             "abnormal initialization behaviour, as in MMDetection)")
        if num_stacks < 1:
            raise ValueError(f"HourglassNet: num_stacks must be >= 1, got {num_stacks}")
        if len(stage_channels) != len(stage_blocks):
            raise ValueError("HourglassNet: stage_channels and stage_blocks must have the same "
                             f"length, got {len(stage_channels)} and {len(stage_blocks)}")
        if len(stage_channels) <= downsample_times:
            raise ValueError(f"HourglassNet: stage_channels needs more than downsample_times="
                             f"{downsample_times} entries, got {len(stage_channels)}")
        super().__init__(init_cfg)
        self.num_stacks = num_stacks
        ch = stage_channels[0]
        self.stem = nn.Sequential(
            ConvModule(3, ch // 2, 7, padding=3, stride=2, norm_cfg=norm_cfg),
            ResLayer(BasicBlock, ch // 2, ch, 1, stride=2, norm_cfg=norm_cfg))
        self.hourglass_modules = nn.ModuleList(
            HourglassModule(downsample_times, stage_channels, stage_blocks)
            for _ in range(num_stacks))
        self.inters = ResLayer(BasicBlock, ch, ch, num_stacks - 1, norm_cfg=norm_cfg)
        self.conv1x1s = nn.ModuleList(
            ConvModule(ch, ch, 1, norm_cfg=norm_cfg, act_cfg=None)
            for _ in range(num_stacks - 1))
        self.out_convs = nn.ModuleList(
            ConvModule(ch, feat_channel, 3, padding=1, norm_cfg=norm_cfg)
            for _ in range(num_stacks))
        self.remap_convs = nn.ModuleList(
            ConvModule(feat_channel, ch, 1, norm_cfg=norm_cfg, act_cfg=None)
            for _ in range(num_stacks - 1))
        self.relu = nn.ReLU(inplace=True)

    def init_weights(self) -> None:
        """The children's init, then PyTorch's default reset of every ``Conv2d``."""
        super().init_weights()
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                m.reset_parameters()

    def forward(self, x: Tensor) -> list[Tensor]:
        """``Tensor[N, 3, H, W] -> num_stacks x Tensor[N, feat_channel, H/4, W/4]``."""
        inter = self.stem(x)
        outs = []
        for i in range(self.num_stacks):
            out = self.out_convs[i](self.hourglass_modules[i](inter))
            outs.append(out)
            if i < self.num_stacks - 1:
                inter = self.conv1x1s[i](inter) + self.remap_convs[i](out)
                inter = self.inters[i](self.relu(inter))
        return outs
