"""``YOLOV3Neck``: YOLOv3's top-down path (MMDetection v2's names).

The backbone's maps come low level first; the neck starts from the last (deepest):
``detect1`` (a :class:`DetectionBlock`) on it, then for each shallower map ``conv{i}``
(1x1) on the previous output, nearest 2x upsampling, concatenation with the map, and
``detect{i+1}``. Outputs deepest first.

>>> import torch
>>> neck = YOLOV3Neck(2, in_channels=[16, 8], out_channels=[8, 4])
>>> [tuple(o.shape) for o in neck([torch.zeros(1, 8, 4, 4), torch.zeros(1, 16, 2, 2)])]
[(1, 8, 2, 2), (1, 4, 4, 4)]
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from ...registry import MODELS
from ..base_module import BaseModule
from ..layers import ConvModule

__all__ = ["YOLOV3Neck", "DetectionBlock"]

_BN = dict(type="BN", requires_grad=True)
_LEAKY = dict(type="LeakyReLU", negative_slope=0.1)


class DetectionBlock(BaseModule):
    """Five ``ConvModule``: 1x1 to ``n``, 3x3 to ``2n``, 1x1, 3x3, 1x1 (``n = out_channels``).

    Args:
        in_channels: input channels.
        out_channels: ``n``.
        conv_cfg: conv layer config.
        norm_cfg: norm layer config.
        act_cfg: activation config.
        init_cfg: initialisation config.
    """

    def __init__(self, in_channels: int, out_channels: int, conv_cfg: dict | None = None,
                 norm_cfg: dict | None = _BN, act_cfg: dict | None = _LEAKY,
                 init_cfg: dict | list | None = None) -> None:
        super().__init__(init_cfg)
        double = out_channels * 2
        cfg = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.conv1 = ConvModule(in_channels, out_channels, 1, **cfg)
        self.conv2 = ConvModule(out_channels, double, 3, padding=1, **cfg)
        self.conv3 = ConvModule(double, out_channels, 1, **cfg)
        self.conv4 = ConvModule(out_channels, double, 3, padding=1, **cfg)
        self.conv5 = ConvModule(double, out_channels, 1, **cfg)

    def forward(self, x: Tensor) -> Tensor:
        """``Tensor[N, in, H, W]`` -> ``Tensor[N, out, H, W]``."""
        return self.conv5(self.conv4(self.conv3(self.conv2(self.conv1(x)))))


@MODELS.register_module()
class YOLOV3Neck(BaseModule):
    """The neck of YOLOv3.

    Args:
        num_scales: number of levels.
        in_channels: per level, deepest first, the input channels.
        out_channels: per level, deepest first, the output channels.
        conv_cfg: conv layer config.
        norm_cfg: norm layer config.
        act_cfg: activation config.
        init_cfg: initialisation config.
    """

    def __init__(self, num_scales: int, in_channels: Sequence[int],
                 out_channels: Sequence[int], conv_cfg: dict | None = None,
                 norm_cfg: dict | None = _BN, act_cfg: dict | None = _LEAKY,
                 init_cfg: dict | list | None = None) -> None:
        super().__init__(init_cfg)
        if not num_scales == len(in_channels) == len(out_channels):
            raise AssertionError(f"YOLOV3Neck: num_scales={num_scales} but in_channels "
                                 f"{list(in_channels)} and out_channels {list(out_channels)}")
        self.num_scales = num_scales
        self.in_channels = in_channels
        self.out_channels = out_channels
        cfg = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.detect1 = DetectionBlock(in_channels[0], out_channels[0], **cfg)
        for i in range(1, num_scales):
            in_c, out_c = in_channels[i], out_channels[i]
            self.add_module(f"conv{i}", ConvModule(out_channels[i - 1], out_c, 1, **cfg))
            self.add_module(f"detect{i + 1}", DetectionBlock(in_c + out_c, out_c, **cfg))

    def forward(self, feats: Sequence[Tensor]) -> tuple[Tensor, ...]:
        """Backbone maps (shallow first) -> ``num_scales`` maps, deepest first."""
        if len(feats) != self.num_scales:
            raise ValueError(f"YOLOV3Neck expects {self.num_scales} maps, got {len(feats)}")
        out = self.detect1(feats[-1])
        outs = [out]
        for i, x in enumerate(reversed(feats[:-1])):
            tmp = F.interpolate(getattr(self, f"conv{i + 1}")(out), scale_factor=2)
            out = getattr(self, f"detect{i + 2}")(torch.cat((tmp, x), 1))
            outs.append(out)
        return tuple(outs)
