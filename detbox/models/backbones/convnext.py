"""ConvNeXt (Liu et al., 2022) with MMClassification 0.25's arguments and state_dict names.

MMDetection 2.28.2's ConvNeXt configs take the backbone from MMClassification
(``custom_imports=dict(imports=['mmcls.models'])``, ``type='mmcls.ConvNeXt'``); detbox implements
it itself and registers it as both ``ConvNeXt`` and ``mmcls.ConvNeXt`` (the ``custom_imports``
entry is satisfied by detbox, see :mod:`detbox.config.imports`).

Modules: ``downsample_layers.0`` (stem: ``0`` a ``stem_patch_size`` conv with that stride,
``1`` a ``norm_cfg`` norm), ``downsample_layers.{1,2,3}`` (``0`` a ``LayerNorm2d`` with eps 1e-5,
``1`` a 2x2 stride-2 conv), ``stages.{i}.{j}`` (:class:`ConvNeXtBlock`: ``depthwise_conv`` 7x7,
``norm``, ``pointwise_conv1``, ``pointwise_conv2`` (``nn.Linear`` or 1x1 convs), ``gamma``
(layer scale, only if ``layer_scale_init_value > 0``)), and ``norm{i}`` for each output stage.

>>> import torch
>>> net = ConvNeXt(arch=dict(depths=[1, 1, 1, 1], channels=[8, 16, 24, 32]),
...                out_indices=[0, 1, 2, 3], gap_before_final_norm=False).eval()
>>> [tuple(f.shape) for f in net(torch.zeros(1, 3, 64, 64))]
[(1, 8, 16, 16), (1, 16, 8, 8), (1, 24, 4, 4), (1, 32, 2, 2)]
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Sequence

import torch
import torch.utils.checkpoint as cp
from torch import Tensor, nn

from detbox.registry import MODELS

from ..base_module import BaseModule, ModuleList, Sequential
from ..layers import build_activation_layer, build_norm_layer
from ..layers.layer_norm_2d import LayerNorm2d
from ..layers.transformer import DropPath
from .stage_utils import FrozenStagesMixin, freeze

__all__ = ["ConvNeXt", "ConvNeXtBlock"]

logger = logging.getLogger(__name__)


class ConvNeXtBlock(BaseModule):
    """Depthwise 7x7 conv, norm, pointwise MLP (``mlp_ratio``), layer scale, residual.

    Args:
        in_channels: channels in and out.
        norm_cfg: the norm after the depthwise conv (``LN2d``, eps 1e-6).
        act_cfg: activation between the pointwise layers.
        mlp_ratio: hidden channels of the pointwise MLP over ``in_channels``.
        linear_pw_conv: pointwise layers as ``nn.Linear`` on channels-last (as the official
            repository) instead of 1x1 convs; the parameters differ in shape.
        drop_path_rate: stochastic depth probability of the residual branch.
        layer_scale_init_value: initial value of ``gamma``; 0 or less: no ``gamma``.
        with_cp: recompute the block in backward (``torch.utils.checkpoint``).
    """

    def __init__(self, in_channels: int, norm_cfg: dict | None = None,
                 act_cfg: dict | None = None, mlp_ratio: float = 4.0,
                 linear_pw_conv: bool = True, drop_path_rate: float = 0.0,
                 layer_scale_init_value: float = 1e-6, with_cp: bool = False) -> None:
        super().__init__()
        norm_cfg = dict(type="LN2d", eps=1e-6) if norm_cfg is None else norm_cfg
        act_cfg = dict(type="GELU") if act_cfg is None else act_cfg
        self.with_cp = with_cp
        self.depthwise_conv = nn.Conv2d(in_channels, in_channels, kernel_size=7, padding=3,
                                        groups=in_channels)
        self.linear_pw_conv = linear_pw_conv
        self.norm = build_norm_layer(norm_cfg, in_channels)[1]
        mid_channels = int(mlp_ratio * in_channels)
        pw_conv = nn.Linear if linear_pw_conv else partial(nn.Conv2d, kernel_size=1)
        self.pointwise_conv1 = pw_conv(in_channels, mid_channels)
        self.act = build_activation_layer(act_cfg)
        self.pointwise_conv2 = pw_conv(mid_channels, in_channels)
        self.gamma = (nn.Parameter(layer_scale_init_value * torch.ones(in_channels))
                      if layer_scale_init_value > 0 else None)
        self.drop_path = DropPath(drop_path_rate) if drop_path_rate > 0 else nn.Identity()

    def _inner_forward(self, x: Tensor) -> Tensor:
        shortcut = x
        x = self.norm(self.depthwise_conv(x))
        if self.linear_pw_conv:
            x = x.permute(0, 2, 3, 1)  # (N, C, H, W) -> (N, H, W, C)
        x = self.pointwise_conv2(self.act(self.pointwise_conv1(x)))
        if self.linear_pw_conv:
            x = x.permute(0, 3, 1, 2)
        if self.gamma is not None:
            x = x.mul(self.gamma.view(1, -1, 1, 1))
        return shortcut + self.drop_path(x)

    def forward(self, x: Tensor) -> Tensor:
        if self.with_cp and x.requires_grad:
            return cp.checkpoint(self._inner_forward, x, use_reentrant=True)
        return self._inner_forward(x)


@MODELS.register_module(name=["ConvNeXt", "mmcls.ConvNeXt"])
class ConvNeXt(FrozenStagesMixin, BaseModule):
    """ConvNeXt backbone (MMClassification 0.25's ``ConvNeXt``).

    Args:
        arch: ``'tiny' | 'small' | 'base' | 'large' | 'xlarge'`` or
            ``dict(depths=[...], channels=[...])``.
        in_channels: input image channels.
        stem_patch_size: kernel size and stride of the stem conv.
        norm_cfg: norm of the stem, of the blocks and of the outputs.
        act_cfg: activation inside the blocks.
        linear_pw_conv: see :class:`ConvNeXtBlock`.
        drop_path_rate: the largest stochastic depth rate (linear over all blocks from 0).
        layer_scale_init_value: see :class:`ConvNeXtBlock`.
        out_indices: stages whose (normed) features are returned; negative values count from 4.
        frozen_stages: the first ``frozen_stages`` (downsample layer and stage) are frozen and
            kept in eval mode.
        gap_before_final_norm: average-pool each output to ``(N, C)`` before its norm
            (classification); detection configs set False.
        with_cp: activation checkpointing in the blocks.
        init_cfg: e.g. ``dict(type='Pretrained', checkpoint=..., prefix='backbone.')``.
    """

    arch_settings = {
        "tiny": {"depths": [3, 3, 9, 3], "channels": [96, 192, 384, 768]},
        "small": {"depths": [3, 3, 27, 3], "channels": [96, 192, 384, 768]},
        "base": {"depths": [3, 3, 27, 3], "channels": [128, 256, 512, 1024]},
        "large": {"depths": [3, 3, 27, 3], "channels": [192, 384, 768, 1536]},
        "xlarge": {"depths": [3, 3, 27, 3], "channels": [256, 512, 1024, 2048]},
    }

    def __init__(self, arch: str | dict = "tiny", in_channels: int = 3,
                 stem_patch_size: int = 4, norm_cfg: dict | None = None,
                 act_cfg: dict | None = None, linear_pw_conv: bool = True,
                 drop_path_rate: float = 0.0, layer_scale_init_value: float = 1e-6,
                 out_indices: int | Sequence[int] = -1, frozen_stages: int = 0,
                 gap_before_final_norm: bool = True, with_cp: bool = False,
                 init_cfg: dict | list | None = None) -> None:
        super().__init__(init_cfg=init_cfg)
        norm_cfg = dict(type="LN2d", eps=1e-6) if norm_cfg is None else norm_cfg
        act_cfg = dict(type="GELU") if act_cfg is None else act_cfg
        if isinstance(arch, str):
            if arch not in self.arch_settings:
                raise KeyError(f"ConvNeXt arch '{arch}' is unknown; choose one of "
                               f"{sorted(self.arch_settings)} or pass dict(depths=, channels=)")
            arch = self.arch_settings[arch]
        elif not isinstance(arch, dict) or not {"depths", "channels"} <= set(arch):
            raise ValueError(f"ConvNeXt arch dict must have 'depths' and 'channels', got {arch}")
        self.depths = list(arch["depths"])
        self.channels = list(arch["channels"])
        if len(self.depths) != len(self.channels):
            raise ValueError(f"ConvNeXt depths {self.depths} and channels {self.channels} "
                             f"must have the same length")
        self.num_stages = len(self.depths)
        if isinstance(out_indices, int):
            out_indices = [out_indices]
        if not isinstance(out_indices, Sequence):
            raise TypeError(f"out_indices must be an int or a sequence, got {type(out_indices)}")
        out_indices = [4 + i if i < 0 else i for i in out_indices]  # as mmcls: counted from 4
        if any(i < 0 for i in out_indices):
            raise ValueError(f"invalid out_indices {out_indices}")
        self.out_indices = out_indices
        self.frozen_stages = frozen_stages
        self.gap_before_final_norm = gap_before_final_norm

        rates = [x.item() for x in torch.linspace(0, drop_path_rate, sum(self.depths),
                                                    device="cpu")]
        self.downsample_layers = ModuleList()
        self.downsample_layers.append(nn.Sequential(
            nn.Conv2d(in_channels, self.channels[0], kernel_size=stem_patch_size,
                      stride=stem_patch_size),
            build_norm_layer(norm_cfg, self.channels[0])[1]))
        self.stages = nn.ModuleList()
        first = 0
        for i, (depth, channels) in enumerate(zip(self.depths, self.channels)):
            if i >= 1:
                self.downsample_layers.append(nn.Sequential(
                    LayerNorm2d(self.channels[i - 1]),
                    nn.Conv2d(self.channels[i - 1], channels, kernel_size=2, stride=2)))
            self.stages.append(Sequential(*[
                ConvNeXtBlock(channels, norm_cfg=norm_cfg, act_cfg=act_cfg,
                              linear_pw_conv=linear_pw_conv, drop_path_rate=rates[first + j],
                              layer_scale_init_value=layer_scale_init_value, with_cp=with_cp)
                for j in range(depth)]))
            first += depth
            if i in self.out_indices:
                self.add_module(f"norm{i}", build_norm_layer(norm_cfg, channels)[1])
        self._freeze_stages()

    def forward(self, x: Tensor) -> tuple[Tensor, ...]:
        """Features of the ``out_indices`` stages: ``(N, C_i, H / 4 / 2^i, W / 4 / 2^i)`` each,
        or ``(N, C_i)`` with ``gap_before_final_norm``."""
        outs = []
        for i, stage in enumerate(self.stages):
            x = stage(self.downsample_layers[i](x))
            if i in self.out_indices:
                norm = getattr(self, f"norm{i}")
                if self.gap_before_final_norm:
                    outs.append(norm(x.mean([-2, -1], keepdim=True)).flatten(1))
                else:
                    outs.append(norm(x).contiguous())
        return tuple(outs)

    def _freeze_stages(self) -> None:
        for i in range(self.frozen_stages):
            freeze([self.downsample_layers[i], self.stages[i]])
