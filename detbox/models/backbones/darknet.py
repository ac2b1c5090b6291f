"""``Darknet``: YOLOv3's Darknet-53 backbone (MMDetection v2's names and defaults).

A 3x3 stem conv (``conv1``, 32 channels), then five ``conv_res_block{i}``: a stride-2 3x3 conv
(``conv``) followed by ``res0..res{n-1}`` residual blocks (1x1 to half the channels, 3x3 back,
plus the input). Every conv is conv + BN + LeakyReLU(0.1). ``out_indices`` counts the stem as 0.

>>> import torch
>>> net = Darknet(out_indices=(3, 4, 5))
>>> [tuple(f.shape) for f in net(torch.zeros(1, 3, 64, 64))]
[(1, 256, 8, 8), (1, 512, 4, 4), (1, 1024, 2, 2)]
"""

from __future__ import annotations

from typing import Sequence

from torch import Tensor, nn

from ...registry import MODELS
from ..base_module import BaseModule
from ..layers import ConvModule
from .stage_utils import FrozenStagesMixin, freeze, pretrained_init_cfg, run_stages

__all__ = ["Darknet", "ResBlock"]

_BN = dict(type="BN", requires_grad=True)
_LEAKY = dict(type="LeakyReLU", negative_slope=0.1)


class ResBlock(BaseModule):
    """``x + conv2(conv1(x))``: a 1x1 ``ConvModule`` to ``in_channels // 2``, a 3x3 back.

    Args:
        in_channels: channels in and out (even).
        conv_cfg: conv layer config.
        norm_cfg: norm layer config.
        act_cfg: activation config.
        init_cfg: initialisation config.
    """

    def __init__(self, in_channels: int, conv_cfg: dict | None = None,
                 norm_cfg: dict | None = _BN, act_cfg: dict | None = _LEAKY,
                 init_cfg: dict | list | None = None) -> None:
        super().__init__(init_cfg)
        if in_channels % 2:
            raise ValueError(f"ResBlock: in_channels must be even, got {in_channels}")
        cfg = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.conv1 = ConvModule(in_channels, in_channels // 2, 1, **cfg)
        self.conv2 = ConvModule(in_channels // 2, in_channels, 3, padding=1, **cfg)

    def forward(self, x: Tensor) -> Tensor:
        """``Tensor[N, C, H, W]`` -> same shape."""
        return self.conv2(self.conv1(x)) + x


@MODELS.register_module()
class Darknet(FrozenStagesMixin, BaseModule):
    """Darknet backbone (only depth 53).

    Args:
        depth: 53.
        out_indices: which of stem (0) and blocks (1..5) to return.
        frozen_stages: freeze the first ``frozen_stages`` of ``[conv1, conv_res_block1, ...]``
            (-1: none).
        conv_cfg: conv layer config.
        norm_cfg: norm layer config.
        act_cfg: activation config.
        norm_eval: keep batch norms in eval mode while training.
        pretrained: deprecated; a checkpoint name, becomes ``init_cfg`` ``Pretrained``.
        init_cfg: initialisation (default: Kaiming on convs, constant 1 on norms).
    """

    arch_settings = {
        53: ((1, 2, 8, 8, 4), ((32, 64), (64, 128), (128, 256), (256, 512), (512, 1024))),
    }

    def __init__(self, depth: int = 53, out_indices: Sequence[int] = (3, 4, 5),
                 frozen_stages: int = -1, conv_cfg: dict | None = None,
                 norm_cfg: dict | None = _BN, act_cfg: dict | None = _LEAKY,
                 norm_eval: bool = True, pretrained: str | None = None,
                 init_cfg: dict | list | None = None) -> None:
        super().__init__(init_cfg)
        if depth not in self.arch_settings:
            raise KeyError(f"invalid depth {depth} for darknet")
        self.depth = depth
        self.out_indices = out_indices
        self.frozen_stages = frozen_stages
        self.layers, self.channels = self.arch_settings[depth]
        cfg = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.conv1 = ConvModule(3, 32, 3, padding=1, **cfg)
        self.cr_blocks = ["conv1"]
        for i, n_layers in enumerate(self.layers):
            name = f"conv_res_block{i + 1}"
            in_c, out_c = self.channels[i]
            self.add_module(name, self.make_conv_res_block(in_c, out_c, n_layers, **cfg))
            self.cr_blocks.append(name)
        self.norm_eval = norm_eval
        default_init = [dict(type="Kaiming", layer="Conv2d"),
                        dict(type="Constant", val=1, layer=["_BatchNorm", "GroupNorm"])]
        self.init_cfg = pretrained_init_cfg(pretrained, init_cfg, default_init)

    @staticmethod
    def make_conv_res_block(in_channels: int, out_channels: int, res_repeat: int,
                            conv_cfg: dict | None = None, norm_cfg: dict | None = _BN,
                            act_cfg: dict | None = _LEAKY) -> nn.Sequential:
        """A stride-2 3x3 ``conv`` then ``res_repeat`` :class:`ResBlock` (``res0``, ...)."""
        cfg = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)
        block = nn.Sequential()
        block.add_module("conv", ConvModule(in_channels, out_channels, 3, stride=2, padding=1,
                                            **cfg))
        for idx in range(res_repeat):
            block.add_module(f"res{idx}", ResBlock(out_channels, **cfg))
        return block

    def _freeze_stages(self) -> None:
        freeze(getattr(self, name) for name in self.cr_blocks[:max(self.frozen_stages, 0)])

    def forward(self, x: Tensor) -> tuple[Tensor, ...]:
        """``Tensor[N, 3, H, W]`` -> the feature maps of ``out_indices``."""
        return run_stages(x, [getattr(self, name) for name in self.cr_blocks], self.out_indices)
