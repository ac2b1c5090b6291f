"""Feature Pyramid Network (``type='FPN'``), MMDetection v2's, with its state_dict names.

Each used input level ``i`` gets a 1x1 ``lateral_convs.i`` and a 3x3 ``fpn_convs.i``; top-down,
each lateral map adds the upsampled map above it. Levels beyond the inputs come from
stride-2 max pooling of the last output (``add_extra_convs=False``) or from extra stride-2
3x3 convs ``fpn_convs.{n}...`` applied to the last input (``'on_input'``, also ``True``), last
lateral map (``'on_lateral'``) or last output (``'on_output'``).

>>> import torch
>>> fpn = FPN([8, 16], 4, num_outs=3)
>>> [tuple(o.shape) for o in fpn([torch.zeros(1, 8, 8, 8), torch.zeros(1, 16, 4, 4)])]
[(1, 4, 8, 8), (1, 4, 4, 4), (1, 4, 2, 2)]
"""

from __future__ import annotations

from typing import Sequence

import torch.nn.functional as F
from torch import Tensor, nn

from detbox.registry import MODELS

from ..base_module import BaseModule
from ..layers import ConvModule

__all__ = ["FPN"]

_EXTRA_SOURCES = ("on_input", "on_lateral", "on_output")


def _check(condition: bool, message: str) -> None:
    # MMDetection asserts here; keep the exception type, but survive ``python -O``.
    if not condition:
        raise AssertionError(message)


@MODELS.register_module()
class FPN(BaseModule):
    """Feature Pyramid Network.

    Args:
        in_channels: channels of each input level (a list, as in MMDetection).
        out_channels: channels of every output level.
        num_outs: number of output levels.
        start_level: first input level used.
        end_level: last input level used (inclusive); -1 for the last. When not the last,
            no extra levels are allowed.
        add_extra_convs: ``False`` (max-pool extra levels), ``True`` (= ``'on_input'``),
            ``'on_input'``, ``'on_lateral'`` or ``'on_output'``.
        relu_before_extra_convs: apply ReLU before every extra conv after the first.
        no_norm_on_lateral: no norm in the lateral convs even when ``norm_cfg`` is set.
        conv_cfg: conv layer config.
        norm_cfg: norm layer config (``None``: no norm, convs with bias).
        act_cfg: activation config (``None``: none, as in MMDetection's FPN).
        upsample_cfg: ``F.interpolate`` arguments for the top-down path; without
            ``scale_factor`` the map is resized to the size of the level below.
        init_cfg: initialisation (default Xavier-uniform convs).
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 out_channels: int,
                 num_outs: int,
                 start_level: int = 0,
                 end_level: int = -1,
                 add_extra_convs: bool | str = False,
                 relu_before_extra_convs: bool = False,
                 no_norm_on_lateral: bool = False,
                 conv_cfg: dict | None = None,
                 norm_cfg: dict | None = None,
                 act_cfg: dict | None = None,
                 upsample_cfg: dict = dict(mode="nearest"),  # noqa: B006 (copied)
                 init_cfg: dict | list | None = dict(  # noqa: B006 (deep-copied)
                     type="Xavier", layer="Conv2d", distribution="uniform")) -> None:
        super().__init__(init_cfg)
        _check(isinstance(in_channels, (list, tuple)),
               f"FPN in_channels must be a list, got {in_channels!r}")
        self.in_channels = list(in_channels)
        self.out_channels = out_channels
        self.num_ins = len(in_channels)
        self.num_outs = num_outs
        self.relu_before_extra_convs = relu_before_extra_convs
        self.no_norm_on_lateral = no_norm_on_lateral
        self.fp16_enabled = False
        self.upsample_cfg = dict(upsample_cfg)

        if end_level == -1 or end_level == self.num_ins - 1:
            self.backbone_end_level = self.num_ins
            _check(num_outs >= self.num_ins - start_level,
                   f"num_outs={num_outs} is fewer than the {self.num_ins - start_level} input "
                   f"levels used (from start_level={start_level})")
        else:
            # Not the last level: no extra level is allowed.
            self.backbone_end_level = end_level + 1
            _check(end_level < self.num_ins,
                   f"end_level={end_level} but there are {self.num_ins} input levels")
            _check(num_outs == end_level - start_level + 1,
                   f"num_outs={num_outs} must be end_level - start_level + 1 = "
                   f"{end_level - start_level + 1} when end_level is not the last level")
        self.start_level = start_level
        self.end_level = end_level
        _check(isinstance(add_extra_convs, (str, bool)),
               f"add_extra_convs must be a bool or a str, got {add_extra_convs!r}")
        if isinstance(add_extra_convs, str):
            _check(add_extra_convs in _EXTRA_SOURCES,
                   f"add_extra_convs must be one of {_EXTRA_SOURCES}, got {add_extra_convs!r}")
        elif add_extra_convs:
            add_extra_convs = "on_input"
        self.add_extra_convs = add_extra_convs

        self.lateral_convs = nn.ModuleList()
        self.fpn_convs = nn.ModuleList()
        for i in range(self.start_level, self.backbone_end_level):
            self.lateral_convs.append(ConvModule(
                in_channels[i], out_channels, 1, conv_cfg=conv_cfg,
                norm_cfg=None if no_norm_on_lateral else norm_cfg, act_cfg=act_cfg,
                inplace=False))
            self.fpn_convs.append(ConvModule(
                out_channels, out_channels, 3, padding=1, conv_cfg=conv_cfg, norm_cfg=norm_cfg,
                act_cfg=act_cfg, inplace=False))

        extra_levels = num_outs - self.backbone_end_level + self.start_level
        if self.add_extra_convs and extra_levels >= 1:
            for i in range(extra_levels):
                if i == 0 and self.add_extra_convs == "on_input":
                    channels = self.in_channels[self.backbone_end_level - 1]
                else:
                    channels = out_channels
                self.fpn_convs.append(ConvModule(
                    channels, out_channels, 3, stride=2, padding=1, conv_cfg=conv_cfg,
                    norm_cfg=norm_cfg, act_cfg=act_cfg, inplace=False))

    def forward(self, inputs: Sequence[Tensor]) -> tuple[Tensor, ...]:
        """Pyramid outputs.

        Args:
            inputs: one ``Tensor[N, in_channels[i], H_i, W_i]`` per input level, finest first.

        Returns:
            ``num_outs`` maps ``Tensor[N, out_channels, H, W]``, finest first; each extra
            level is ``ceil(H / 2) x ceil(W / 2)`` of the one before (pooling or conv alike).
        """
        _check(len(inputs) == len(self.in_channels),
               f"FPN got {len(inputs)} input levels, expected {len(self.in_channels)}")
        laterals = [conv(inputs[i + self.start_level])
                    for i, conv in enumerate(self.lateral_convs)]
        used_levels = len(laterals)
        for i in range(used_levels - 1, 0, -1):
            if "scale_factor" in self.upsample_cfg:
                up = F.interpolate(laterals[i], **self.upsample_cfg)
            else:
                up = F.interpolate(laterals[i], size=laterals[i - 1].shape[2:],
                                   **self.upsample_cfg)
            laterals[i - 1] = laterals[i - 1] + up

        outs = [self.fpn_convs[i](laterals[i]) for i in range(used_levels)]
        return self._add_extra_levels(inputs, laterals, outs)

    def _add_extra_levels(self, inputs: tuple[Tensor, ...], laterals: list[Tensor],
                          outs: list[Tensor]) -> tuple[Tensor, ...]:
        """Append levels up to ``num_outs``: max-pooling, or the extra convs of
        ``add_extra_convs`` (fed from the input, the last lateral or the last output)."""
        used_levels = len(laterals)
        if self.num_outs > len(outs):
            if not self.add_extra_convs:
                for _ in range(self.num_outs - used_levels):
                    outs.append(F.max_pool2d(outs[-1], 1, stride=2))
            else:
                if self.add_extra_convs == "on_input":
                    source = inputs[self.backbone_end_level - 1]
                elif self.add_extra_convs == "on_lateral":
                    source = laterals[-1]
                else:
                    source = outs[-1]
                outs.append(self.fpn_convs[used_levels](source))
                for i in range(used_levels + 1, self.num_outs):
                    prev = F.relu(outs[-1]) if self.relu_before_extra_convs else outs[-1]
                    outs.append(self.fpn_convs[i](prev))
        return tuple(outs)
