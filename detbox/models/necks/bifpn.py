"""EfficientDet's weighted bidirectional FPN (``type='BiFPN'``, also ``'BIFPN'``; Tan et al., 2020).

Not part of MMDetection v2: this is detbox's own neck, and also the example of adding a neck
inside the package (a file in ``detbox/models/necks/`` registered with
``@MODELS.register_module()`` and imported in ``necks/__init__.py``). For a module outside the
package, see ``custom_imports`` in ``configs/atss/README.md`` and
``tests/models/necks/test_custom_imports.py``.

Layout (state_dict names):

1. ``lateral_convs.i``: a 1x1 ``ConvModule`` bringing input level ``start_level + i`` to
   ``out_channels`` (norm unless ``no_norm_on_lateral``, no activation);
2. extra levels up to ``num_outs``: with ``add_extra_convs``, stride-2 3x3 convs
   ``extra_convs.j`` on the last input (``extra_convs_on_inputs``, the default) or on the last
   lateral map, then on the previous extra level; otherwise 3x3 stride-2 max pooling;
3. ``stack`` BiFPN layers ``bifpn_layers.k``. A layer over levels ``P_0..P_{L-1}`` (finest
   first) runs a top-down pass, ``T_l = conv(act(fuse(P_l, up(T_{l+1}))))`` with
   ``T_{L-1} = P_{L-1}``, then a bottom-up pass,
   ``O_l = conv(act(fuse(P_l, T_l, down(O_{l-1}))))`` (``O_0 = T_0``; the top level fuses only
   ``P_{L-1}`` and ``down(O_{L-2})``). ``fuse`` is EfficientDet's fast normalised fusion
   ``sum(relu(w_i) x_i) / (sum(relu(w_j)) + epsilon)`` with one learnt weight per input of
   each node (``td_weights.j``, ``bu_weights.j``, starting at 1); ``conv`` is a depthwise 3x3
   followed by a pointwise 1x1 and a norm (``td_convs.j``, ``bu_convs.j``;
   ``separable_conv=False`` gives a plain 3x3 ``ConvModule``); ``up`` is nearest resizing to the
   finer level's size, ``down`` a 3x3 stride-2 max pooling (resized if the sizes still differ).

>>> import torch
>>> neck = BiFPN([8, 16, 32], 12, num_outs=5, stack=2, norm_cfg=dict(type='BN'))
>>> feats = [torch.zeros(1, 8, 32, 32), torch.zeros(1, 16, 16, 16), torch.zeros(1, 32, 8, 8)]
>>> [tuple(o.shape[-2:]) for o in neck(feats)]
[(32, 32), (16, 16), (8, 8), (4, 4), (2, 2)]
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from detbox.registry import MODELS

from ..base_module import BaseModule
from ..layers import ConvModule, DepthwiseSeparableConvModule, build_activation_layer

__all__ = ["BiFPN", "BIFPN", "BiFPNLayer"]


def _fuse(weights: Tensor, inputs: Sequence[Tensor], epsilon: float) -> Tensor:
    """Fast normalised fusion of same-shape maps with non-negative learnt weights."""
    w = F.relu(weights)
    out = w[0] * inputs[0]
    for i in range(1, len(inputs)):
        out = out + w[i] * inputs[i]
    return out / (w.sum() + epsilon)


def _down(x: Tensor, size: torch.Size) -> Tensor:
    x = F.max_pool2d(x, 3, stride=2, padding=1)
    return x if x.shape[-2:] == size else F.interpolate(x, size=size, mode="nearest")


class BiFPNLayer(nn.Module):
    """One top-down plus bottom-up pass over ``num_levels`` maps of ``channels`` channels.

    Args:
        num_levels: number of pyramid levels (at least 2).
        channels: channels of every level.
        conv_cfg: conv layer config.
        norm_cfg: norm after each node's conv.
        act_cfg: activation applied to the fused map before the conv (Swish by default).
        separable_conv: depthwise-separable node convs (EfficientDet) instead of plain 3x3.
        epsilon: added to the sum of fusion weights.
        upsample_cfg: ``F.interpolate`` arguments of the top-down resizing (besides ``size``).
    """

    def __init__(self, num_levels: int, channels: int, conv_cfg: dict | None = None,
                 norm_cfg: dict | None = None, act_cfg: dict | None = None,
                 separable_conv: bool = True, epsilon: float = 1e-4,
                 upsample_cfg: dict | None = None) -> None:
        super().__init__()
        if num_levels < 2:
            raise ValueError(f"a BiFPN layer needs at least 2 levels, got {num_levels}")
        self.num_levels = num_levels
        self.epsilon = epsilon
        self.upsample_cfg = dict(upsample_cfg or dict(mode="nearest"))
        self.act = build_activation_layer(act_cfg) if act_cfg is not None else nn.Identity()

        def node_conv() -> nn.Module:
            if separable_conv:
                return DepthwiseSeparableConvModule(
                    channels, channels, 3, padding=1, conv_cfg=conv_cfg, dw_norm_cfg=None,
                    dw_act_cfg=None, pw_norm_cfg=norm_cfg, pw_act_cfg=None)
            return ConvModule(channels, channels, 3, padding=1, conv_cfg=conv_cfg,
                              norm_cfg=norm_cfg, act_cfg=None)

        # node j of the top-down pass makes level num_levels - 2 - j; of the bottom-up
        # pass, level j + 1
        self.td_convs = nn.ModuleList(node_conv() for _ in range(num_levels - 1))
        self.bu_convs = nn.ModuleList(node_conv() for _ in range(num_levels - 1))
        self.td_weights = nn.ParameterList(
            nn.Parameter(torch.ones(2)) for _ in range(num_levels - 1))
        self.bu_weights = nn.ParameterList(
            nn.Parameter(torch.ones(3 if j < num_levels - 2 else 2))
            for j in range(num_levels - 1))

    def forward(self, feats: Sequence[Tensor]) -> list[Tensor]:
        """``num_levels`` maps ``Tensor[N, C, H_l, W_l]`` (finest first) -> same shapes."""
        if len(feats) != self.num_levels:
            raise AssertionError(f"BiFPN layer got {len(feats)} levels, expected "
                                 f"{self.num_levels}")
        top_down = [None] * self.num_levels
        top_down[-1] = feats[-1]
        for j, level in enumerate(range(self.num_levels - 2, -1, -1)):
            up = F.interpolate(top_down[level + 1], size=feats[level].shape[-2:],
                               **self.upsample_cfg)
            fused = _fuse(self.td_weights[j], (feats[level], up), self.epsilon)
            top_down[level] = self.td_convs[j](self.act(fused))
        outs = [top_down[0]]
        for j, level in enumerate(range(1, self.num_levels)):
            down = _down(outs[-1], feats[level].shape[-2:])
            inputs = ((feats[level], top_down[level], down) if level < self.num_levels - 1
                      else (feats[level], down))
            fused = _fuse(self.bu_weights[j], inputs, self.epsilon)
            outs.append(self.bu_convs[j](self.act(fused)))
        return outs


@MODELS.register_module(name=["BiFPN", "BIFPN"])
class BiFPN(BaseModule):
    """EfficientDet's BiFPN neck (see the module docstring for the layout).

    The arguments up to ``no_norm_on_lateral`` are those of the widely copied MMDetection
    ``BIFPN`` neck, so configs written for it build here.

    Args:
        in_channels: channels of each input level.
        out_channels: channels of every output level.
        num_outs: number of output levels.
        start_level: first input level used.
        end_level: last input level used (inclusive); -1 for the last.
        stack: number of BiFPN layers.
        add_extra_convs: make extra levels with stride-2 convs (else max pooling); a str
            ``'on_input'`` / ``'on_lateral'`` also chooses their source.
        extra_convs_on_inputs: with ``add_extra_convs=True``, start from the last input
            (else from the last lateral map).
        relu_before_extra_convs: ReLU before every extra conv after the first.
        no_norm_on_lateral: no norm in the lateral convs.
        conv_cfg: conv layer config.
        norm_cfg: norm config (EfficientDet: ``dict(type='BN', momentum=0.01, eps=1e-3)``).
        act_cfg: activation before each node's conv (Swish by default).
        separable_conv: depthwise-separable node convs.
        epsilon: of the fast normalised fusion.
        upsample_cfg: top-down resizing mode (nearest by default).
        init_cfg: initialisation (Xavier-uniform convs by default).
    """

    def __init__(self, in_channels: Sequence[int], out_channels: int, num_outs: int,
                 start_level: int = 0, end_level: int = -1, stack: int = 1,
                 add_extra_convs: bool | str = False, extra_convs_on_inputs: bool = True,
                 relu_before_extra_convs: bool = False, no_norm_on_lateral: bool = False,
                 conv_cfg: dict | None = None, norm_cfg: dict | None = None,
                 act_cfg: dict | None = dict(type="Swish"),  # noqa: B006 (never mutated)
                 separable_conv: bool = True, epsilon: float = 1e-4,
                 upsample_cfg: dict | None = None,
                 init_cfg: dict | list | None = dict(  # noqa: B006 (deep-copied)
                     type="Xavier", layer="Conv2d", distribution="uniform")) -> None:
        super().__init__(init_cfg)
        if not isinstance(in_channels, (list, tuple)):
            raise AssertionError(f"BiFPN in_channels must be a list, got {in_channels!r}")
        self.in_channels = list(in_channels)
        self.out_channels = out_channels
        self.num_ins = len(in_channels)
        self.num_outs = num_outs
        self.stack = stack
        self.relu_before_extra_convs = relu_before_extra_convs
        end = self.num_ins if end_level == -1 else end_level + 1
        if not 0 <= start_level < end <= self.num_ins:
            raise AssertionError(f"BiFPN: bad start_level={start_level} / end_level={end_level} "
                                 f"for {self.num_ins} inputs")
        self.start_level = start_level
        self.backbone_end_level = end
        used = end - start_level
        if num_outs < used or (end_level != -1 and num_outs != used):
            raise AssertionError(f"BiFPN: num_outs={num_outs} does not fit the {used} input "
                                 f"levels used")
        if num_outs < 2:
            raise AssertionError(f"BiFPN needs num_outs >= 2, got {num_outs}")
        if add_extra_convs is True:
            add_extra_convs = "on_input" if extra_convs_on_inputs else "on_lateral"
        if add_extra_convs not in (False, "on_input", "on_lateral"):
            raise AssertionError("BiFPN add_extra_convs must be a bool, 'on_input' or "
                                 f"'on_lateral', got {add_extra_convs!r}")
        self.add_extra_convs = add_extra_convs

        self.lateral_convs = nn.ModuleList(
            ConvModule(in_channels[i], out_channels, 1, conv_cfg=conv_cfg,
                       norm_cfg=None if no_norm_on_lateral else norm_cfg, act_cfg=None,
                       inplace=False)
            for i in range(start_level, end))
        self.extra_convs = nn.ModuleList()
        if add_extra_convs:
            for j in range(num_outs - used):
                channels = (in_channels[end - 1] if j == 0 and add_extra_convs == "on_input"
                            else out_channels)
                self.extra_convs.append(ConvModule(
                    channels, out_channels, 3, stride=2, padding=1, conv_cfg=conv_cfg,
                    norm_cfg=norm_cfg, act_cfg=None, inplace=False))
        self.bifpn_layers = nn.ModuleList(
            BiFPNLayer(num_outs, out_channels, conv_cfg=conv_cfg, norm_cfg=norm_cfg,
                       act_cfg=act_cfg, separable_conv=separable_conv, epsilon=epsilon,
                       upsample_cfg=upsample_cfg)
            for _ in range(stack))

    def forward(self, inputs: Sequence[Tensor]) -> tuple[Tensor, ...]:
        """``num_outs`` maps ``Tensor[N, out_channels, H, W]``, finest first."""
        if len(inputs) != self.num_ins:
            raise AssertionError(f"BiFPN got {len(inputs)} input levels, expected "
                                 f"{self.num_ins}")
        feats = [conv(inputs[self.start_level + i]) for i, conv in enumerate(self.lateral_convs)]
        if self.add_extra_convs:
            source = (inputs[self.backbone_end_level - 1]
                      if self.add_extra_convs == "on_input" else feats[-1])
            for j, conv in enumerate(self.extra_convs):
                if j > 0:
                    source = F.relu(feats[-1]) if self.relu_before_extra_convs else feats[-1]
                feats.append(conv(source))
        while len(feats) < self.num_outs:
            feats.append(F.max_pool2d(feats[-1], 3, stride=2, padding=1))
        for layer in self.bifpn_layers:
            feats = layer(feats)
        return tuple(feats)


BIFPN = BiFPN  # the name MMDetection users gave their own BiFPN neck
