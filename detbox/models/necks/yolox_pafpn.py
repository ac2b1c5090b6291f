"""``YOLOXPAFPN``: YOLOX's path aggregation neck (CSP blocks, MMDetection v2's names).

Top-down: reduce the coarser map with a 1x1 conv (``reduce_layers``), upsample, concatenate
with the finer input, fuse with a ``CSPLayer`` (``top_down_blocks``). Bottom-up: a stride-2
conv (``downsamples``), concatenate with the top-down map, ``CSPLayer``
(``bottom_up_blocks``). Each level ends with a 1x1 conv to ``out_channels`` (``out_convs``).

>>> import torch
>>> neck = YOLOXPAFPN([8, 16, 32], 8, num_csp_blocks=1)
>>> feats = [torch.zeros(1, c, s, s) for c, s in ((8, 8), (16, 4), (32, 2))]
>>> [tuple(f.shape) for f in neck(feats)]
[(1, 8, 8, 8), (1, 8, 4, 4), (1, 8, 2, 2)]
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import Tensor, nn

from ...registry import MODELS
from ..base_module import BaseModule
from ..layers import ConvModule, DepthwiseSeparableConvModule
from ..layers.csp_layer import YOLO_ACT, YOLO_NORM, CSPLayer

__all__ = ["YOLOXPAFPN"]

_KAIMING_UNIFORM = dict(type="Kaiming", layer="Conv2d", a=math.sqrt(5), distribution="uniform",
                        mode="fan_in", nonlinearity="leaky_relu")


@MODELS.register_module()
class YOLOXPAFPN(BaseModule):
    """YOLOX's PAFPN.

    Args:
        in_channels: channels of each input level (finest first).
        out_channels: channels of every output.
        num_csp_blocks: bottlenecks in each ``CSPLayer``.
        use_depthwise: depthwise separable stride-2 convs and bottlenecks.
        upsample_cfg: ``nn.Upsample`` arguments.
        conv_cfg: conv layer config.
        norm_cfg: norm layer config.
        act_cfg: activation config.
        init_cfg: initialisation (Kaiming uniform, ``a=sqrt(5)``, on convs).
    """

    def __init__(self, in_channels: Sequence[int], out_channels: int, num_csp_blocks: int = 3,
                 use_depthwise: bool = False,
                 upsample_cfg: dict | None = None, conv_cfg: dict | None = None,
                 norm_cfg: dict | None = YOLO_NORM, act_cfg: dict | None = YOLO_ACT,
                 init_cfg: dict | list | None = _KAIMING_UNIFORM) -> None:
        super().__init__(init_cfg)
        self.in_channels = list(in_channels)
        self.out_channels = out_channels
        common = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)
        csp = dict(num_blocks=num_csp_blocks, add_identity=False, use_depthwise=use_depthwise,
                   **common)
        conv = DepthwiseSeparableConvModule if use_depthwise else ConvModule
        chans = self.in_channels
        self.upsample = nn.Upsample(**(upsample_cfg or dict(scale_factor=2, mode="nearest")))
        self.reduce_layers = nn.ModuleList()
        self.top_down_blocks = nn.ModuleList()
        for idx in range(len(chans) - 1, 0, -1):
            self.reduce_layers.append(ConvModule(chans[idx], chans[idx - 1], 1, **common))
            self.top_down_blocks.append(CSPLayer(chans[idx - 1] * 2, chans[idx - 1], **csp))
        self.downsamples = nn.ModuleList()
        self.bottom_up_blocks = nn.ModuleList()
        for idx in range(len(chans) - 1):
            self.downsamples.append(conv(chans[idx], chans[idx], 3, stride=2, padding=1,
                                         **common))
            self.bottom_up_blocks.append(CSPLayer(chans[idx] * 2, chans[idx + 1], **csp))
        self.out_convs = nn.ModuleList(ConvModule(c, out_channels, 1, **common) for c in chans)

    def forward(self, inputs: Sequence[Tensor]) -> tuple[Tensor, ...]:
        """One ``Tensor[N, in_channels[i], H_i, W_i]`` per level -> one
        ``Tensor[N, out_channels, H_i, W_i]`` per level."""
        if len(inputs) != len(self.in_channels):
            raise ValueError(f"YOLOXPAFPN expects {len(self.in_channels)} feature maps, got "
                             f"{len(inputs)}")
        n = len(self.in_channels)
        inner = [inputs[-1]]  # top-down maps, finest first once complete
        for step, idx in enumerate(range(n - 1, 0, -1)):
            high = self.reduce_layers[step](inner[0])
            inner[0] = high
            fused = self.top_down_blocks[step](torch.cat([self.upsample(high), inputs[idx - 1]],
                                                         1))
            inner.insert(0, fused)
        outs = [inner[0]]
        for idx in range(n - 1):
            down = self.downsamples[idx](outs[-1])
            outs.append(self.bottom_up_blocks[idx](torch.cat([down, inner[idx + 1]], 1)))
        return tuple(conv(out) for conv, out in zip(self.out_convs, outs))
