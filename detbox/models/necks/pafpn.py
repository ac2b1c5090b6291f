"""Path Aggregation Network neck (``type='PAFPN'``; Liu et al., 2018), MMDetection v2's.

An FPN (``lateral_convs``, ``fpn_convs`` as in :class:`FPN`) followed by a bottom-up path: each
FPN output from the second one on adds a stride-2 3x3 conv (``downsample_convs.i``) of the
augmented level below it, then goes through a 3x3 conv (``pafpn_convs.i``). Extra levels are
made as FPN makes them, from the augmented outputs.

>>> import torch
>>> neck = PAFPN([8, 16], 4, num_outs=3)
>>> [tuple(o.shape) for o in neck([torch.zeros(1, 8, 8, 8), torch.zeros(1, 16, 4, 4)])]
[(1, 4, 8, 8), (1, 4, 4, 4), (1, 4, 2, 2)]
"""

from __future__ import annotations

from typing import Sequence

import torch.nn.functional as F
from torch import Tensor, nn

from detbox.registry import MODELS

from ..layers import ConvModule
from .fpn import FPN

__all__ = ["PAFPN"]


@MODELS.register_module()
class PAFPN(FPN):
    """FPN plus a bottom-up path aggregation.

    Args:
        in_channels: channels of each input level.
        out_channels: channels of every output level.
        num_outs: number of output levels.
        start_level: first input level used.
        end_level: last input level used (inclusive); -1 for the last.
        add_extra_convs: as for :class:`FPN`.
        relu_before_extra_convs: apply ReLU before every extra conv after the first.
        no_norm_on_lateral: no norm in the lateral convs.
        conv_cfg: conv layer config.
        norm_cfg: norm layer config.
        act_cfg: activation config.
        init_cfg: initialisation (default Xavier-uniform convs).
    """

    def __init__(self, in_channels: Sequence[int], out_channels: int, num_outs: int,
                 start_level: int = 0, end_level: int = -1,
                 add_extra_convs: bool | str = False, relu_before_extra_convs: bool = False,
                 no_norm_on_lateral: bool = False, conv_cfg: dict | None = None,
                 norm_cfg: dict | None = None, act_cfg: dict | None = None,
                 init_cfg: dict | list | None = dict(  # noqa: B006 (deep-copied)
                     type="Xavier", layer="Conv2d", distribution="uniform")) -> None:
        super().__init__(in_channels, out_channels, num_outs, start_level=start_level,
                         end_level=end_level, add_extra_convs=add_extra_convs,
                         relu_before_extra_convs=relu_before_extra_convs,
                         no_norm_on_lateral=no_norm_on_lateral, conv_cfg=conv_cfg,
                         norm_cfg=norm_cfg, act_cfg=act_cfg, init_cfg=init_cfg)
        self.downsample_convs = nn.ModuleList()
        self.pafpn_convs = nn.ModuleList()
        for _ in range(self.start_level + 1, self.backbone_end_level):
            self.downsample_convs.append(ConvModule(
                out_channels, out_channels, 3, stride=2, padding=1, conv_cfg=conv_cfg,
                norm_cfg=norm_cfg, act_cfg=act_cfg, inplace=False))
            self.pafpn_convs.append(ConvModule(
                out_channels, out_channels, 3, padding=1, conv_cfg=conv_cfg, norm_cfg=norm_cfg,
                act_cfg=act_cfg, inplace=False))

    def forward(self, inputs: Sequence[Tensor]) -> tuple[Tensor, ...]:
        """``num_outs`` maps ``Tensor[N, out_channels, H, W]``, finest first."""
        if len(inputs) != len(self.in_channels):
            raise AssertionError(f"PAFPN got {len(inputs)} input levels, expected "
                                 f"{len(self.in_channels)}")
        laterals = [conv(inputs[i + self.start_level])
                    for i, conv in enumerate(self.lateral_convs)]
        used_levels = len(laterals)
        for i in range(used_levels - 1, 0, -1):
            laterals[i - 1] = laterals[i - 1] + F.interpolate(
                laterals[i], size=laterals[i - 1].shape[2:], mode="nearest")
        inter_outs = [self.fpn_convs[i](laterals[i]) for i in range(used_levels)]
        # bottom-up path
        for i in range(used_levels - 1):
            inter_outs[i + 1] = inter_outs[i + 1] + self.downsample_convs[i](inter_outs[i])
        outs = [inter_outs[0]] + [self.pafpn_convs[i - 1](inter_outs[i])
                                  for i in range(1, used_levels)]
        return self._add_extra_levels(inputs, laterals, outs)
