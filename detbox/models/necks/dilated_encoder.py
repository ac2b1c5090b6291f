"""``DilatedEncoder``: YOLOF's neck (Chen et al., 2021), MMDetection v2's names.

Only the last backbone level is used: a 1x1 ``lateral_conv`` + BatchNorm to ``out_channels``,
a 3x3 ``fpn_conv`` + BatchNorm, then ``num_residual_blocks`` residual bottlenecks
(``dilated_encoder_blocks.i``: 1x1 down to ``block_mid_channels``, 3x3 with dilation
``block_dilations[i]``, 1x1 back up, each ConvModule with BN and ReLU, plus the identity).
The output is a one-level tuple.

>>> import torch
>>> neck = DilatedEncoder(16, 8, 4, 2, [2, 4])
>>> [tuple(o.shape) for o in neck([torch.zeros(1, 16, 6, 6)])]
[(1, 8, 6, 6)]
"""

from __future__ import annotations

from typing import Sequence

from torch import Tensor, nn

from detbox.registry import MODELS

from ..layers import ConvModule, is_norm
from ..weight_init import caffe2_xavier_init, constant_init, normal_init

__all__ = ["DilatedEncoder", "Bottleneck"]


class Bottleneck(nn.Module):
    """1x1 -> dilated 3x3 -> 1x1 ConvModules (BN, ReLU) plus the identity.

    Args:
        in_channels: input (and output) channels.
        mid_channels: channels of the middle conv.
        dilation: dilation (and padding) of the 3x3 conv.
        norm_cfg: norm layer config.
    """

    def __init__(self, in_channels: int, mid_channels: int, dilation: int,
                 norm_cfg: dict | None = None) -> None:
        super().__init__()
        norm_cfg = norm_cfg or dict(type="BN", requires_grad=True)
        self.conv1 = ConvModule(in_channels, mid_channels, 1, norm_cfg=norm_cfg)
        self.conv2 = ConvModule(mid_channels, mid_channels, 3, padding=dilation,
                                dilation=dilation, norm_cfg=norm_cfg)
        self.conv3 = ConvModule(mid_channels, in_channels, 1, norm_cfg=norm_cfg)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv3(self.conv2(self.conv1(x))) + x


@MODELS.register_module()
class DilatedEncoder(nn.Module):
    """YOLOF's dilated encoder on the last input level.

    Args:
        in_channels: channels of the last backbone level.
        out_channels: channels of the output.
        block_mid_channels: middle channels of each residual block.
        num_residual_blocks: number of residual blocks.
        block_dilations: dilation of each block's 3x3 conv.
    """

    def __init__(self, in_channels: int, out_channels: int, block_mid_channels: int,
                 num_residual_blocks: int, block_dilations: Sequence[int]) -> None:
        super().__init__()
        if len(block_dilations) < num_residual_blocks:
            raise ValueError(f"DilatedEncoder: {num_residual_blocks} blocks need as many "
                             f"block_dilations, got {list(block_dilations)}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.block_mid_channels = block_mid_channels
        self.num_residual_blocks = num_residual_blocks
        self.block_dilations = block_dilations
        self.lateral_conv = nn.Conv2d(in_channels, out_channels, kernel_size=1)
        self.lateral_norm = nn.BatchNorm2d(out_channels)
        self.fpn_conv = nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1)
        self.fpn_norm = nn.BatchNorm2d(out_channels)
        self.dilated_encoder_blocks = nn.Sequential(*[
            Bottleneck(out_channels, block_mid_channels, dilation=block_dilations[i])
            for i in range(num_residual_blocks)])

    def init_weights(self) -> None:
        """Caffe2-Xavier lateral and fpn convs, normal(0.01) block convs, norms at 1."""
        caffe2_xavier_init(self.lateral_conv)
        caffe2_xavier_init(self.fpn_conv)
        for m in (self.lateral_norm, self.fpn_norm):
            constant_init(m, 1)
        for m in self.dilated_encoder_blocks.modules():
            if isinstance(m, nn.Conv2d):
                normal_init(m, mean=0, std=0.01)
            if is_norm(m):
                constant_init(m, 1)

    def forward(self, feature: Sequence[Tensor]) -> tuple[Tensor]:
        """``(Tensor[B, out, H, W],)`` from the last of the backbone's levels."""
        out = self.lateral_norm(self.lateral_conv(feature[-1]))
        out = self.fpn_norm(self.fpn_conv(out))
        return (self.dilated_encoder_blocks(out),)
