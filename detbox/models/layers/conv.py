"""Convolution and padding layers built from configs, as mmcv 1.x's ``build_conv_layer``.

>>> build_conv_layer(None, 3, 8, 3, padding=1)
Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
>>> build_padding_layer(dict(type='reflect'), 2)
ReflectionPad2d((2, 2, 2, 2))
"""

from __future__ import annotations

from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn

from detbox.registry import LAYERS

from ._lookup import layer_class

__all__ = ["build_conv_layer", "build_padding_layer", "ConvWS2d", "CONV_TYPES", "PADDING_TYPES"]


class ConvWS2d(nn.Conv2d):
    """Conv2d with weight standardization (type ``'ConvWS'``): each output channel's weights
    are centred and divided by their (unbiased) standard deviation plus ``eps`` before the
    convolution. Parameters and state_dict keys are ``nn.Conv2d``'s.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 eps: float = 1e-5) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride=stride, padding=padding,
                         dilation=dilation, groups=groups, bias=bias)
        self.eps = eps

    def forward(self, x: Tensor) -> Tensor:
        flat = self.weight.view(self.weight.size(0), -1)  # [C_out, C_in * k * k]
        mean = flat.mean(dim=1).view(-1, 1, 1, 1)
        std = flat.std(dim=1).view(-1, 1, 1, 1)
        weight = (self.weight - mean) / (std + self.eps)
        return F.conv2d(x, weight, self.bias, self.stride, self.padding, self.dilation,
                        self.groups)


# 'Conv' is mmcv's empty-tensor-safe Conv2d wrapper; plain nn.Conv2d handles empty input now.
CONV_TYPES: dict[str, type] = {
    "Conv1d": nn.Conv1d,
    "Conv2d": nn.Conv2d,
    "Conv3d": nn.Conv3d,
    "Conv": nn.Conv2d,
    "deconv": nn.ConvTranspose2d,
    "ConvTranspose2d": nn.ConvTranspose2d,
    "deconv3d": nn.ConvTranspose3d,
    "ConvTranspose3d": nn.ConvTranspose3d,
    "ConvWS": ConvWS2d,
}
PADDING_TYPES: dict[str, type] = {
    "zero": nn.ZeroPad2d,
    "reflect": nn.ReflectionPad2d,
    "replicate": nn.ReplicationPad2d,
}
for _name, _cls in {**CONV_TYPES, **PADDING_TYPES}.items():
    LAYERS.register_module(name=_name, module=_cls)


def build_conv_layer(cfg: dict | None, *args: Any, **kwargs: Any) -> nn.Module:
    """A convolution layer.

    Args:
        cfg: ``dict(type='Conv2d', ...)``; ``None`` means ``nn.Conv2d``. Keys other than ``type``
            are passed to the layer after ``args`` and ``kwargs``.
        *args: positional arguments of the layer (``in_channels, out_channels, kernel_size``).
        **kwargs: keyword arguments of the layer (``stride``, ``padding``, ``bias``, ...).
    """
    cls, cfg_args = layer_class(dict(type="Conv2d") if cfg is None else cfg, "conv", CONV_TYPES)
    return cls(*args, **kwargs, **cfg_args)


def build_padding_layer(cfg: dict, *args: Any, **kwargs: Any) -> nn.Module:
    """A padding layer: ``type`` one of ``'zero'``, ``'reflect'``, ``'replicate'``."""
    cls, cfg_args = layer_class(cfg, "padding", PADDING_TYPES)
    return cls(*args, **kwargs, **cfg_args)
