"""``CSPDarknet``: the backbone of YOLOv5 / YOLOX (MMDetection v2's names and defaults).

A ``Focus`` stem (space-to-depth then a 3x3 conv), then stages ``stage1..stage4`` (``P5``) or
``stage1..stage5`` (``P6``), each a stride-2 conv, an optional ``SPPBottleneck`` (last stage)
and a ``CSPLayer``. ``deepen_factor`` scales the number of bottlenecks, ``widen_factor`` the
channels (YOLOX-s: 0.33 / 0.5).

>>> import torch
>>> net = CSPDarknet(deepen_factor=0.33, widen_factor=0.125)
>>> [tuple(f.shape) for f in net(torch.zeros(1, 3, 64, 64))]
[(1, 32, 8, 8), (1, 64, 4, 4), (1, 128, 2, 2)]
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
from .stage_utils import FrozenStagesMixin, freeze, run_stages

__all__ = ["CSPDarknet", "Focus", "SPPBottleneck"]

_KAIMING_UNIFORM = dict(type="Kaiming", layer="Conv2d", a=math.sqrt(5), distribution="uniform",
                        mode="fan_in", nonlinearity="leaky_relu")


class Focus(nn.Module):
    """Move each 2x2 pixel block into channels (``[N, C, H, W] -> [N, 4C, H/2, W/2]``, in the
    order top-left, bottom-left, top-right, bottom-right), then a ``ConvModule`` (``conv``)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 1,
                 stride: int = 1, conv_cfg: dict | None = None,
                 norm_cfg: dict | None = YOLO_NORM, act_cfg: dict | None = YOLO_ACT) -> None:
        super().__init__()
        self.conv = ConvModule(in_channels * 4, out_channels, kernel_size, stride,
                               padding=(kernel_size - 1) // 2, conv_cfg=conv_cfg,
                               norm_cfg=norm_cfg, act_cfg=act_cfg)

    def forward(self, x: Tensor) -> Tensor:
        """``Tensor[N, C, H, W] -> Tensor[N, out, H/2, W/2]``."""
        x = torch.cat((x[..., ::2, ::2], x[..., 1::2, ::2], x[..., ::2, 1::2],
                       x[..., 1::2, 1::2]), dim=1)
        return self.conv(x)


class SPPBottleneck(BaseModule):
    """Spatial pyramid pooling (YOLOv3-SPP): 1x1 conv to half the channels, concatenated with
    its stride-1 max-pools of each ``kernel_sizes``, then a 1x1 conv (``conv1``, ``conv2``)."""

    def __init__(self, in_channels: int, out_channels: int,
                 kernel_sizes: Sequence[int] = (5, 9, 13), conv_cfg: dict | None = None,
                 norm_cfg: dict | None = YOLO_NORM, act_cfg: dict | None = YOLO_ACT,
                 init_cfg: dict | list | None = None) -> None:
        super().__init__(init_cfg)
        mid = in_channels // 2
        common = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.conv1 = ConvModule(in_channels, mid, 1, stride=1, **common)
        self.poolings = nn.ModuleList(
            nn.MaxPool2d(kernel_size=k, stride=1, padding=k // 2) for k in kernel_sizes)
        self.conv2 = ConvModule(mid * (len(kernel_sizes) + 1), out_channels, 1, **common)

    def forward(self, x: Tensor) -> Tensor:
        """``Tensor[N, in, H, W] -> Tensor[N, out, H, W]``."""
        x = self.conv1(x)
        return self.conv2(torch.cat([x] + [pool(x) for pool in self.poolings], dim=1))


@MODELS.register_module()
class CSPDarknet(FrozenStagesMixin, BaseModule):
    """CSP-Darknet.

    Args:
        arch: ``'P5'`` (4 stages, strides 8-32 out) or ``'P6'`` (5 stages).
        deepen_factor: multiplier of the bottlenecks per stage (rounded, at least 1).
        widen_factor: multiplier of the channels.
        out_indices: outputs to return; 0 is the stem, ``i`` is ``stage{i}``.
        frozen_stages: stem and stages up to this index are frozen (-1: none).
        use_depthwise: depthwise separable convs.
        arch_ovewrite: replace the arch table (MMDetection's spelling), rows
            ``[in_channels, out_channels, num_blocks, add_identity, use_spp]``.
        spp_kernal_sizes: SPP pooling sizes (MMDetection's spelling).
        conv_cfg: conv layer config.
        norm_cfg: norm layer config.
        act_cfg: activation config.
        norm_eval: keep batch norms in eval mode while training.
        init_cfg: initialisation (Kaiming uniform, ``a=sqrt(5)``, on convs).
    """

    arch_settings = {
        "P5": [[64, 128, 3, True, False], [128, 256, 9, True, False],
               [256, 512, 9, True, False], [512, 1024, 3, False, True]],
        "P6": [[64, 128, 3, True, False], [128, 256, 9, True, False],
               [256, 512, 9, True, False], [512, 768, 3, True, False],
               [768, 1024, 3, False, True]],
    }

    def __init__(self, arch: str = "P5", deepen_factor: float = 1.0, widen_factor: float = 1.0,
                 out_indices: Sequence[int] = (2, 3, 4), frozen_stages: int = -1,
                 use_depthwise: bool = False, arch_ovewrite: list | None = None,
                 spp_kernal_sizes: Sequence[int] = (5, 9, 13), conv_cfg: dict | None = None,
                 norm_cfg: dict | None = YOLO_NORM, act_cfg: dict | None = YOLO_ACT,
                 norm_eval: bool = False,
                 init_cfg: dict | list | None = _KAIMING_UNIFORM) -> None:
        super().__init__(init_cfg)
        if arch not in self.arch_settings:
            raise KeyError(f"CSPDarknet: arch must be one of {sorted(self.arch_settings)}, "
                           f"got {arch!r}")
        setting = arch_ovewrite or self.arch_settings[arch]
        if not set(out_indices) <= set(range(len(setting) + 1)):
            raise ValueError(f"CSPDarknet: out_indices {tuple(out_indices)} must be in "
                             f"0..{len(setting)}")
        if frozen_stages not in range(-1, len(setting) + 1):
            raise ValueError(f"frozen_stages must be in range(-1, len(arch_setting) + 1). "
                             f"But received {frozen_stages}")
        self.out_indices = out_indices
        self.frozen_stages = frozen_stages
        self.use_depthwise = use_depthwise
        self.norm_eval = norm_eval
        common = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)
        conv = DepthwiseSeparableConvModule if use_depthwise else ConvModule
        self.stem = Focus(3, int(setting[0][0] * widen_factor), kernel_size=3, **common)
        self.layers = ["stem"]
        for i, (in_ch, out_ch, num_blocks, add_identity, use_spp) in enumerate(setting):
            in_ch, out_ch = int(in_ch * widen_factor), int(out_ch * widen_factor)
            num_blocks = max(round(num_blocks * deepen_factor), 1)
            stage: list[nn.Module] = [conv(in_ch, out_ch, 3, stride=2, padding=1, **common)]
            if use_spp:
                stage.append(SPPBottleneck(out_ch, out_ch, kernel_sizes=spp_kernal_sizes,
                                           **common))
            stage.append(CSPLayer(out_ch, out_ch, num_blocks=num_blocks,
                                  add_identity=add_identity, use_depthwise=use_depthwise,
                                  **common))
            self.add_module(f"stage{i + 1}", nn.Sequential(*stage))
            self.layers.append(f"stage{i + 1}")

    def _freeze_stages(self) -> None:
        freeze(getattr(self, name) for name in self.layers[:self.frozen_stages + 1])

    def forward(self, x: Tensor) -> tuple[Tensor, ...]:
        """``Tensor[N, 3, H, W]`` -> the feature maps of ``out_indices``."""
        return run_stages(x, [getattr(self, name) for name in self.layers], self.out_indices)
