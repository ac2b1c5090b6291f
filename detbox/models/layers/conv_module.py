"""``ConvModule``: conv + norm + activation in one block, as mmcv 1.x's (same attribute names).

Submodules are ``conv``, the norm under its abbreviation (``bn``, ``gn``, ...) and ``activate``,
so state_dict keys read ``conv.weight``, ``bn.running_mean``, ``gn.weight``.

>>> import torch
>>> m = ConvModule(3, 8, 3, padding=1, norm_cfg=dict(type='BN'))
>>> [name for name, _ in m.named_children()], m.conv.bias is None
(['conv', 'bn', 'activate'], True)
>>> m(torch.zeros(1, 3, 5, 5)).shape
torch.Size([1, 8, 5, 5])
"""

from __future__ import annotations

import warnings
from typing import Union

from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.instancenorm import _InstanceNorm

from detbox.registry import LAYERS

from ..weight_init import constant_init, kaiming_init
from .activation import build_activation_layer
from .conv import build_conv_layer, build_padding_layer
from .norm import build_norm_layer

__all__ = ["ConvModule"]

IntPair = Union[int, tuple[int, int]]

# Activations whose constructor takes no ``inplace`` argument (mmcv's list).
_NO_INPLACE = ("Tanh", "PReLU", "Sigmoid", "HSigmoid", "Swish", "GELU")


@LAYERS.register_module()
class ConvModule(nn.Module):
    """A conv layer with optional norm and activation, applied in ``order``.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        kernel_size: conv kernel size.
        stride: conv stride.
        padding: conv padding (done by a padding layer for modes conv does not support).
        dilation: conv dilation.
        groups: conv groups.
        bias: conv bias; ``'auto'`` means a bias only when there is no norm.
        conv_cfg: conv layer config; ``None`` is ``Conv2d``.
        norm_cfg: norm layer config (``dict(type='BN')``); ``None`` for no norm.
        act_cfg: activation config; ``None`` for no activation.
        inplace: default ``inplace`` of the activation (when it takes one).
        with_spectral_norm: wrap the conv in ``nn.utils.spectral_norm``.
        padding_mode: ``'zeros'`` / ``'circular'`` (by the conv), or ``'reflect'`` /
            ``'replicate'`` / ``'zero'`` (by a padding layer named ``padding_layer``).
        order: the order of ``'conv'``, ``'norm'`` and ``'act'``.
    """

    _abbr_ = "conv_block"

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: IntPair,
                 stride: IntPair = 1,
                 padding: IntPair = 0,
                 dilation: IntPair = 1,
                 groups: int = 1,
                 bias: bool | str = "auto",
                 conv_cfg: dict | None = None,
                 norm_cfg: dict | None = None,
                 act_cfg: dict | None = dict(type="ReLU"),  # noqa: B006 (never mutated)
                 inplace: bool = True,
                 with_spectral_norm: bool = False,
                 padding_mode: str = "zeros",
                 order: tuple[str, str, str] = ("conv", "norm", "act")) -> None:
        super().__init__()
        for key, cfg in (("conv_cfg", conv_cfg), ("norm_cfg", norm_cfg), ("act_cfg", act_cfg)):
            if cfg is not None and not isinstance(cfg, dict):
                raise TypeError(f"ConvModule {key} must be a dict or None, got {cfg!r}")
        if not (isinstance(order, tuple) and len(order) == 3
                and set(order) == {"conv", "norm", "act"}):
            raise ValueError(f"order must be a tuple of 'conv', 'norm' and 'act', got {order!r}")
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        self.act_cfg = act_cfg
        self.inplace = inplace
        self.with_spectral_norm = with_spectral_norm
        self.with_explicit_padding = padding_mode not in ("zeros", "circular")
        self.order = order
        self.with_norm = norm_cfg is not None
        self.with_activation = act_cfg is not None
        if bias == "auto":
            bias = not self.with_norm
        self.with_bias = bias

        if self.with_explicit_padding:
            self.padding_layer = build_padding_layer(dict(type=padding_mode), padding)
        self.conv = build_conv_layer(conv_cfg, in_channels, out_channels, kernel_size,
                                     stride=stride,
                                     padding=0 if self.with_explicit_padding else padding,
                                     dilation=dilation, groups=groups, bias=bias)
        # The conv's attributes, exposed on the block.
        self.in_channels = self.conv.in_channels
        self.out_channels = self.conv.out_channels
        self.kernel_size = self.conv.kernel_size
        self.stride = self.conv.stride
        self.padding = padding
        self.dilation = self.conv.dilation
        self.transposed = self.conv.transposed
        self.output_padding = self.conv.output_padding
        self.groups = self.conv.groups
        if with_spectral_norm:
            self.conv = nn.utils.spectral_norm(self.conv)

        if self.with_norm:
            norm_channels = out_channels if order.index("norm") > order.index("conv") \
                else in_channels
            self.norm_name, norm = build_norm_layer(norm_cfg, norm_channels)
            self.add_module(self.norm_name, norm)
            if self.with_bias and isinstance(norm, (_BatchNorm, _InstanceNorm)):
                warnings.warn("Unnecessary conv bias before batch/instance norm", stacklevel=2)
        else:
            self.norm_name = None

        if self.with_activation:
            act_cfg_ = dict(act_cfg)
            if act_cfg_["type"] not in _NO_INPLACE:
                act_cfg_.setdefault("inplace", inplace)
            self.activate = build_activation_layer(act_cfg_)

        self.init_weights()

    @property
    def norm(self) -> nn.Module | None:
        """The norm layer, or ``None``."""
        return getattr(self, self.norm_name) if self.norm_name else None

    def init_weights(self) -> None:
        """Kaiming (fan_out) conv weights and zero bias, unless the conv has its own
        ``init_weights``; norm weight 1 and bias 0."""
        if not hasattr(self.conv, "init_weights"):
            if self.with_activation and self.act_cfg["type"] == "LeakyReLU":
                nonlinearity, a = "leaky_relu", self.act_cfg.get("negative_slope", 0.01)
            else:
                nonlinearity, a = "relu", 0
            kaiming_init(self.conv, a=a, nonlinearity=nonlinearity)
        if self.with_norm:
            constant_init(self.norm, 1, bias=0)

    def forward(self, x: Tensor, activate: bool = True, norm: bool = True) -> Tensor:
        """Apply the layers in ``order``; ``activate``/``norm`` False skip those layers."""
        for layer in self.order:
            if layer == "conv":
                if self.with_explicit_padding:
                    x = self.padding_layer(x)
                x = self.conv(x)
            elif layer == "norm" and norm and self.with_norm:
                x = self.norm(x)
            elif layer == "act" and activate and self.with_activation:
                x = self.activate(x)
        return x

