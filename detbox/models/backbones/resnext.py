"""ResNeXt backbones (``type='ResNeXt'``): ResNet with grouped, widened 3x3 convs.

A 32x4d stage with ``planes`` has a 3x3 conv of ``floor(planes * 4 / 64) * 32`` channels in
32 groups, so ResNeXt-101 32x4d's ``layer1.0.conv2.weight`` is ``(128, 4, 3, 3)``. With
``dcn=`` that grouped conv2 is the deformable conv (``groups`` kept).
"""

from __future__ import annotations

import math
from typing import Any

from torch import nn

from detbox.registry import MODELS

from ..layers import ResLayer
from .resnet import Bottleneck as _Bottleneck
from .resnet import ResNet

__all__ = ["ResNeXt"]


class Bottleneck(_Bottleneck):
    """ResNeXt's bottleneck: the 3x3 conv has ``groups`` groups of ``base_width`` channels
    (scaled by ``planes / base_channels``); with ``groups=1`` it is ResNet's block.

    Args:
        inplanes: input channels.
        planes: base channels (the block outputs ``4 * planes``).
        groups: groups of the 3x3 conv.
        base_width: channels per group at ``planes == base_channels``.
        base_channels: the first stage's ``planes``.
        **kwargs: ResNet ``Bottleneck`` arguments (``stride``, ``style``, ...).
    """

    def __init__(self, inplanes: int, planes: int, groups: int = 1, base_width: int = 4,
                 base_channels: int = 64, **kwargs: Any) -> None:
        # Read by ``_width_and_groups`` while the base class builds the convs.
        self.groups = groups
        self.base_width = base_width
        self.base_channels = base_channels
        super().__init__(inplanes, planes, **kwargs)

    def _take_fallback_on_stride(self) -> bool:
        # MMDetection's ResNeXt block builds conv2 twice: ResNet's ``__init__`` pops the key,
        # then its own pops it again and finds it gone. So its conv2 never falls back.
        super()._take_fallback_on_stride()
        return False

    def _width_and_groups(self) -> tuple[int, int]:
        if self.groups == 1:
            return self.planes, 1
        width = math.floor(self.planes * (self.base_width / self.base_channels)) * self.groups
        return width, self.groups


@MODELS.register_module()
class ResNeXt(ResNet):
    """ResNeXt backbone; takes :class:`ResNet`'s arguments (depth 50, 101 or 152) plus:

    Args:
        groups: groups of the 3x3 convs (32 for 32x4d).
        base_width: channels per group in the first stage (4 for 32x4d).
        **kwargs: :class:`ResNet` arguments.
    """

    arch_settings = {
        50: (Bottleneck, (3, 4, 6, 3)),
        101: (Bottleneck, (3, 4, 23, 3)),
        152: (Bottleneck, (3, 8, 36, 3)),
    }

    def __init__(self, groups: int = 1, base_width: int = 4, **kwargs: Any) -> None:
        self.groups = groups
        self.base_width = base_width
        super().__init__(**kwargs)

    def make_res_layer(self, **kwargs: Any) -> nn.Module:
        """One stage of grouped bottlenecks."""
        return ResLayer(groups=self.groups, base_width=self.base_width,
                        base_channels=self.base_channels, **kwargs)
