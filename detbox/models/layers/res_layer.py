"""``ResLayer``: one ResNet stage, a sequence of residual blocks (MMDetection v2's utility).

The first block gets the stride and a ``downsample`` branch (1x1 conv + norm, preceded by an
average pool when ``avg_down``) whenever the stride or the channel count changes, giving the
keys ``0.downsample.0.weight`` / ``0.downsample.1.*`` (``.1``/``.2`` with ``avg_down``).
"""

from __future__ import annotations

from typing import Any

from torch import nn

from ..base_module import Sequential
from .conv import build_conv_layer
from .norm import build_norm_layer

__all__ = ["ResLayer"]


class ResLayer(Sequential):
    """A stage of ``num_blocks`` blocks of type ``block``.

    Args:
        block: the block class (with an ``expansion`` attribute), e.g. ``Bottleneck``.
        inplanes: input channels of the stage.
        planes: base channels of the blocks (they output ``planes * block.expansion``).
        num_blocks: number of blocks.
        stride: stride of the stage (of its first block, or of its last one when not
            ``downsample_first``).
        avg_down: downsample the shortcut by ``AvgPool2d`` then a stride-1 conv.
        conv_cfg: conv layer config.
        norm_cfg: norm layer config.
        downsample_first: put the stride and the shortcut conv in the first block (ResNet)
            rather than the last (Hourglass).
        first_block_kwargs: extra arguments of the block that gets the stride (Res2Net's
            ``stage_type='stage'``).
        **kwargs: passed to every block (``style``, ``with_cp``, ``dilation``, ...).
    """

    def __init__(self,
                 block: type,
                 inplanes: int,
                 planes: int,
                 num_blocks: int,
                 stride: int = 1,
                 avg_down: bool = False,
                 conv_cfg: dict | None = None,
                 norm_cfg: dict | None = dict(type="BN"),  # noqa: B006 (never mutated)
                 downsample_first: bool = True,
                 first_block_kwargs: dict | None = None,
                 **kwargs: Any) -> None:
        self.block = block
        out_channels = planes * block.expansion
        downsample = None
        if stride != 1 or inplanes != out_channels:
            layers: list[nn.Module] = []
            conv_stride = stride
            if avg_down:
                conv_stride = 1
                layers.append(nn.AvgPool2d(kernel_size=stride, stride=stride, ceil_mode=True,
                                           count_include_pad=False))
            layers.append(build_conv_layer(conv_cfg, inplanes, out_channels, kernel_size=1,
                                           stride=conv_stride, bias=False))
            layers.append(build_norm_layer(norm_cfg, out_channels)[1])
            downsample = nn.Sequential(*layers)

        common = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg, **kwargs)
        first = dict(common, **(first_block_kwargs or {}))
        blocks = []
        if downsample_first:
            blocks.append(block(inplanes=inplanes, planes=planes, stride=stride,
                                downsample=downsample, **first))
            for _ in range(1, num_blocks):
                blocks.append(block(inplanes=out_channels, planes=planes, stride=1, **common))
        else:  # downsample_first=False is for HourglassModule
            for _ in range(num_blocks - 1):
                blocks.append(block(inplanes=inplanes, planes=inplanes, stride=1, **common))
            blocks.append(block(inplanes=inplanes, planes=planes, stride=stride,
                                downsample=downsample, **first))
        super().__init__(*blocks)
