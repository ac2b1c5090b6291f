"""``ChannelMapper``: bring every input level to the same channels (MMDetection v2's neck).

Each input level ``i`` goes through ``convs.i`` (a ``ConvModule`` of ``kernel_size``, same
padding); with ``num_outs`` above the number of inputs, stride-2 3x3 ``extra_convs`` add levels:
the first on the last input, the others on the previous output.

>>> import torch
>>> neck = ChannelMapper([8, 16], 4, num_outs=3)
>>> [tuple(o.shape) for o in neck([torch.zeros(1, 8, 8, 8), torch.zeros(1, 16, 4, 4)])]
[(1, 4, 8, 8), (1, 4, 4, 4), (1, 4, 2, 2)]
"""

from __future__ import annotations

from typing import Sequence

from torch import Tensor, nn

from detbox.registry import MODELS

from ..base_module import BaseModule
from ..layers import ConvModule

__all__ = ["ChannelMapper"]


@MODELS.register_module()
class ChannelMapper(BaseModule):
    """One conv per input level to ``out_channels``, plus optional extra levels.

    Args:
        in_channels: channels of each input level (a list).
        out_channels: channels of every output.
        kernel_size: kernel of the per-level convs.
        conv_cfg: conv layer config.
        norm_cfg: norm layer config.
        act_cfg: activation config (ReLU by default).
        num_outs: number of outputs (default: one per input).
        init_cfg: initialisation (default Xavier-uniform convs).
    """

    def __init__(self, in_channels: Sequence[int], out_channels: int, kernel_size: int = 3,
                 conv_cfg: dict | None = None, norm_cfg: dict | None = None,
                 act_cfg: dict | None = dict(type="ReLU"),  # noqa: B006 (never mutated)
                 num_outs: int | None = None,
                 init_cfg: dict | list | None = dict(  # noqa: B006 (deep-copied)
                     type="Xavier", layer="Conv2d", distribution="uniform")) -> None:
        super().__init__(init_cfg)
        if not isinstance(in_channels, (list, tuple)):
            raise AssertionError(f"ChannelMapper in_channels must be a list, got {in_channels!r}")
        in_channels = list(in_channels)
        self.extra_convs = None
        if num_outs is None:
            num_outs = len(in_channels)
        self.convs = nn.ModuleList(
            ConvModule(c, out_channels, kernel_size, padding=(kernel_size - 1) // 2,
                       conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)
            for c in in_channels)
        if num_outs > len(in_channels):
            self.extra_convs = nn.ModuleList()
            for i in range(len(in_channels), num_outs):
                channels = in_channels[-1] if i == len(in_channels) else out_channels
                self.extra_convs.append(ConvModule(
                    channels, out_channels, 3, stride=2, padding=1, conv_cfg=conv_cfg,
                    norm_cfg=norm_cfg, act_cfg=act_cfg))

    def forward(self, inputs: Sequence[Tensor]) -> tuple[Tensor, ...]:
        """One ``Tensor[N, out_channels, H, W]`` per input, then the extra levels."""
        if len(inputs) != len(self.convs):
            raise AssertionError(f"ChannelMapper got {len(inputs)} inputs, expected "
                                 f"{len(self.convs)}")
        outs = [conv(x) for conv, x in zip(self.convs, inputs)]
        if self.extra_convs:
            for i, conv in enumerate(self.extra_convs):
                outs.append(conv(inputs[-1] if i == 0 else outs[-1]))
        return tuple(outs)
