"""Darknet bottleneck and Cross Stage Partial layer (YOLOX's CSPDarknet and YOLOXPAFPN).

Attribute names are MMDetection v2's (``main_conv``, ``short_conv``, ``final_conv``,
``blocks.i.conv1`` / ``conv2``), so state_dict keys match.

>>> import torch
>>> layer = CSPLayer(8, 8, num_blocks=2)
>>> layer(torch.zeros(1, 8, 4, 4)).shape
torch.Size([1, 8, 4, 4])
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..base_module import BaseModule
from .conv_module import ConvModule
from .depthwise_separable_conv_module import DepthwiseSeparableConvModule

__all__ = ["DarknetBottleneck", "CSPLayer", "YOLO_NORM", "YOLO_ACT"]

# YOLOX's defaults (BN with PyTorch momentum 0.03, eps 1e-3, Swish).
YOLO_NORM = dict(type="BN", momentum=0.03, eps=0.001)
YOLO_ACT = dict(type="Swish")


class DarknetBottleneck(BaseModule):
    """``x -> 1x1 conv -> 3x3 conv (+ x)``.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        expansion: hidden channels as a fraction of ``out_channels``.
        add_identity: add the input (only when ``in_channels == out_channels``).
        use_depthwise: depthwise separable 3x3 conv.
        conv_cfg: conv layer config.
        norm_cfg: norm layer config.
        act_cfg: activation config.
        init_cfg: initialisation config.
    """

    def __init__(self, in_channels: int, out_channels: int, expansion: float = 0.5,
                 add_identity: bool = True, use_depthwise: bool = False,
                 conv_cfg: dict | None = None, norm_cfg: dict | None = YOLO_NORM,
                 act_cfg: dict | None = YOLO_ACT, init_cfg: dict | list | None = None) -> None:
        super().__init__(init_cfg)
        hidden = int(out_channels * expansion)
        conv = DepthwiseSeparableConvModule if use_depthwise else ConvModule
        self.conv1 = ConvModule(in_channels, hidden, 1, conv_cfg=conv_cfg, norm_cfg=norm_cfg,
                                act_cfg=act_cfg)
        self.conv2 = conv(hidden, out_channels, 3, stride=1, padding=1, conv_cfg=conv_cfg,
                          norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.add_identity = add_identity and in_channels == out_channels

    def forward(self, x: Tensor) -> Tensor:
        """``Tensor[N, in, H, W] -> Tensor[N, out, H, W]``."""
        out = self.conv2(self.conv1(x))
        return out + x if self.add_identity else out


class CSPLayer(BaseModule):
    """Cross Stage Partial layer: a 1x1 "short" branch and a 1x1 + bottlenecks "main" branch,
    concatenated (main first) and fused by a 1x1 conv.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        expand_ratio: hidden channels of each branch as a fraction of ``out_channels``.
        num_blocks: bottlenecks in the main branch.
        add_identity: residual bottlenecks.
        use_depthwise: depthwise separable 3x3 convs in the bottlenecks.
        conv_cfg: conv layer config.
        norm_cfg: norm layer config.
        act_cfg: activation config.
        init_cfg: initialisation config.
    """

    def __init__(self, in_channels: int, out_channels: int, expand_ratio: float = 0.5,
                 num_blocks: int = 1, add_identity: bool = True, use_depthwise: bool = False,
                 conv_cfg: dict | None = None, norm_cfg: dict | None = YOLO_NORM,
                 act_cfg: dict | None = YOLO_ACT, init_cfg: dict | list | None = None) -> None:
        super().__init__(init_cfg)
        mid = int(out_channels * expand_ratio)
        common = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.main_conv = ConvModule(in_channels, mid, 1, **common)
        self.short_conv = ConvModule(in_channels, mid, 1, **common)
        self.final_conv = ConvModule(2 * mid, out_channels, 1, **common)
        self.blocks = nn.Sequential(*[
            DarknetBottleneck(mid, mid, 1.0, add_identity, use_depthwise, **common)
            for _ in range(num_blocks)])

    def forward(self, x: Tensor) -> Tensor:
        """``Tensor[N, in, H, W] -> Tensor[N, out, H, W]``."""
        main = self.blocks(self.main_conv(x))
        return self.final_conv(torch.cat((main, self.short_conv(x)), dim=1))
