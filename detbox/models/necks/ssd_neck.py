"""``SSDNeck``: SSD's extra layers (and the L2 norm of the first input), MMDetection v2 names.

The inputs pass through (the first one L2-normalised and scaled per channel when
``l2_norm_scale`` is set); each extra level is a 1x1 ``ConvModule`` to half its channels and a
3x3 ``ConvModule`` (or depthwise separable, SSDLite) with its stride and padding, applied to the
previous level (``extra_layers.i.0`` / ``.1``).

>>> import torch
>>> neck = SSDNeck((8, 16), (8, 16, 8, 8), level_strides=(2, 1), level_paddings=(1, 0))
>>> [tuple(f.shape) for f in neck([torch.rand(1, 8, 8, 8), torch.rand(1, 16, 6, 6)])]
[(1, 8, 8, 8), (1, 16, 6, 6), (1, 8, 3, 3), (1, 8, 1, 1)]
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor, nn

from ...registry import MODELS
from ..base_module import BaseModule
from ..layers import ConvModule, DepthwiseSeparableConvModule

__all__ = ["L2Norm", "SSDNeck"]


class L2Norm(nn.Module):
    """``weight[c] * x / (||x||_2 over channels + eps)``, computed in float32."""

    def __init__(self, n_dims: int, scale: float = 20.0, eps: float = 1e-10) -> None:
        super().__init__()
        self.n_dims = n_dims
        self.weight = nn.Parameter(torch.Tensor(n_dims))
        self.eps = eps
        self.scale = scale

    def forward(self, x: Tensor) -> Tensor:
        """``Tensor[N, C, H, W] -> Tensor[N, C, H, W]``."""
        xf = x.float()
        norm = xf.pow(2).sum(1, keepdim=True).sqrt() + self.eps
        return (self.weight[None, :, None, None].float().expand_as(xf) * xf / norm).type_as(x)


@MODELS.register_module()
class SSDNeck(BaseModule):
    """SSD's extra feature levels.

    Args:
        in_channels: channels of the backbone outputs.
        out_channels: channels of all outputs (starting with ``in_channels``).
        level_strides: stride of the 3x3 conv of each extra level.
        level_paddings: padding of the 3x3 conv of each extra level.
        l2_norm_scale: initial scale of the first input's L2 norm; ``None`` for no L2 norm.
        last_kernel_size: kernel of the last level's second conv.
        use_depthwise: depthwise separable second convs (SSDLite).
        conv_cfg: conv layer config.
        norm_cfg: norm layer config.
        act_cfg: activation config.
        init_cfg: initialisation (Xavier uniform convs, BN at 1, L2 norm weights at the scale).
    """

    def __init__(self, in_channels: Sequence[int], out_channels: Sequence[int],
                 level_strides: Sequence[int], level_paddings: Sequence[int],
                 l2_norm_scale: float | None = 20.0, last_kernel_size: int = 3,
                 use_depthwise: bool = False, conv_cfg: dict | None = None,
                 norm_cfg: dict | None = None,
                 act_cfg: dict | None = dict(type="ReLU"),  # noqa: B006 (never mutated)
                 init_cfg: dict | list | None = None) -> None:
        if init_cfg is None:
            init_cfg = [dict(type="Xavier", distribution="uniform", layer="Conv2d"),
                        dict(type="Constant", val=1, layer="BatchNorm2d")]
        elif isinstance(init_cfg, dict):
            init_cfg = [init_cfg]
        else:
            init_cfg = list(init_cfg)
        in_channels, out_channels = list(in_channels), list(out_channels)
        if not (len(out_channels) > len(in_channels)
                and len(out_channels) - len(in_channels) == len(level_strides)
                == len(level_paddings) and in_channels == out_channels[:len(in_channels)]):
            raise ValueError(f"SSDNeck: out_channels {out_channels} must start with in_channels "
                             f"{in_channels} and add one entry per level_strides "
                             f"{tuple(level_strides)} / level_paddings {tuple(level_paddings)}")
        if l2_norm_scale:
            init_cfg.append(dict(type="Constant", val=l2_norm_scale,
                                 override=dict(name="l2_norm")))
        super().__init__(init_cfg)
        if l2_norm_scale:
            self.l2_norm = L2Norm(in_channels[0], l2_norm_scale)
        common = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)
        second = DepthwiseSeparableConvModule if use_depthwise else ConvModule
        extra = out_channels[len(in_channels):]
        self.extra_layers = nn.ModuleList()
        for i, (ch, stride, padding) in enumerate(zip(extra, level_strides, level_paddings)):
            kernel = last_kernel_size if i == len(extra) - 1 else 3
            self.extra_layers.append(nn.Sequential(
                ConvModule(out_channels[len(in_channels) - 1 + i], ch // 2, 1, **common),
                second(ch // 2, ch, kernel, stride=stride, padding=padding, **common)))

    def forward(self, inputs: Sequence[Tensor]) -> tuple[Tensor, ...]:
        """The inputs (first one L2-normalised) followed by the extra levels."""
        outs = list(inputs)
        if hasattr(self, "l2_norm"):
            outs[0] = self.l2_norm(outs[0])
        feat = outs[-1]
        for layer in self.extra_layers:
            feat = layer(feat)
            outs.append(feat)
        return tuple(outs)
