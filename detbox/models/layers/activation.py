"""Activation layers built from configs (mmcv 1.x's ``ACTIVATION_LAYERS`` names).

>>> build_activation_layer(dict(type='LeakyReLU', negative_slope=0.1))
LeakyReLU(negative_slope=0.1)
>>> build_activation_layer(dict(type='Clamp', min=0.0, max=2.0))(torch.tensor([-1.0, 3.0]))
tensor([0., 2.])
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from detbox.registry import LAYERS

from ._lookup import layer_class

__all__ = ["build_activation_layer", "Clamp", "Swish", "HSigmoid", "ACTIVATION_TYPES"]


class Clamp(nn.Module):
    """``torch.clamp(x, min, max)`` as a layer (types ``'Clamp'`` and ``'Clip'``)."""

    def __init__(self, min: float = -1.0, max: float = 1.0) -> None:  # noqa: A002
        super().__init__()
        self.min = min
        self.max = max

    def forward(self, x: Tensor) -> Tensor:
        return torch.clamp(x, min=self.min, max=self.max)


class Swish(nn.Module):
    """``x * sigmoid(x)`` (takes no arguments; ``'SiLU'`` is the in-place-capable one)."""

    def forward(self, x: Tensor) -> Tensor:
        return x * torch.sigmoid(x)


class HSigmoid(nn.Module):
    """Hard sigmoid ``clamp((x + bias) / divisor, min_value, max_value)``.

    The defaults give PyTorch's ``hardsigmoid`` (mmcv >= 1.4.4 defaults).
    """

    def __init__(self, bias: float = 3.0, divisor: float = 6.0, min_value: float = 0.0,
                 max_value: float = 1.0) -> None:
        super().__init__()
        if divisor == 0:
            raise ValueError("HSigmoid divisor must not be 0")
        self.bias = bias
        self.divisor = divisor
        self.min_value = min_value
        self.max_value = max_value

    def forward(self, x: Tensor) -> Tensor:
        return ((x + self.bias) / self.divisor).clamp_(self.min_value, self.max_value)


ACTIVATION_TYPES: dict[str, type] = {
    "ReLU": nn.ReLU,
    "LeakyReLU": nn.LeakyReLU,
    "PReLU": nn.PReLU,
    "RReLU": nn.RReLU,
    "ReLU6": nn.ReLU6,
    "ELU": nn.ELU,
    "Sigmoid": nn.Sigmoid,
    "Tanh": nn.Tanh,
    "GELU": nn.GELU,
    "SiLU": nn.SiLU,
    "Swish": Swish,
    "HSigmoid": HSigmoid,
    "HSwish": nn.Hardswish,
    "Clamp": Clamp,
    "Clip": Clamp,
}
for _name, _cls in ACTIVATION_TYPES.items():
    LAYERS.register_module(name=_name, module=_cls)


def build_activation_layer(cfg: dict) -> nn.Module:
    """An activation layer from ``dict(type=..., **kwargs)`` (``inplace``, ``negative_slope``)."""
    cls, args = layer_class(cfg, "activation", ACTIVATION_TYPES)
    return cls(**args)
