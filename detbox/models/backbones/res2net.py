"""Res2Net backbones (``type='Res2Net'``, `arXiv:1904.01169 <https://arxiv.org/abs/1904.01169>`_).

A Res2Net block (``Bottle2neck``) splits the output of its first 1x1 conv into ``scales``
groups of ``width`` channels; each of the first ``scales - 1`` groups goes through its own 3x3
conv after the previous group's output is added to it (hierarchical residual connections), the
last group passes unchanged (average-pooled in a strided stage's first block). State_dict names
are MMDetection v2's: ``conv1``, ``bn1``, ``convs.<i>``, ``bns.<i>``, ``conv3``, ``bn3``, and
the shortcut ``downsample.1`` (conv) / ``downsample.2`` (norm) after an average pool.

>>> import torch
>>> net = Res2Net(depth=50, base_channels=16, base_width=8, scales=2).eval()
>>> [tuple(f.shape) for f in net(torch.zeros(1, 3, 64, 64))]
[(1, 64, 16, 16), (1, 128, 8, 8), (1, 256, 4, 4), (1, 512, 2, 2)]
"""

from __future__ import annotations

import logging
import math
from typing import Any

import torch
from torch import Tensor, nn

from detbox.registry import MODELS

from ..layers import ResLayer, build_conv_layer, build_norm_layer
from .resnet import Bottleneck, ResNet, _check

__all__ = ["Bottle2neck", "Res2Layer", "Res2Net"]

logger = logging.getLogger(__name__)


class Bottle2neck(Bottleneck):
    """Res2Net's bottleneck block; outputs ``4 * planes`` channels.

    Args:
        inplanes: input channels.
        planes: base channels (the block outputs ``4 * planes``).
        scales: number of channel groups (> 1; with 1 it would be a ResNet block).
        base_width: channels per group at ``planes == base_channels``; a block has
            ``width = floor(planes * base_width / base_channels)`` channels per group.
        base_channels: the first stage's ``planes``.
        stage_type: ``'stage'`` for a stage's first block (groups are not summed, the last
            group is average-pooled when strided), ``'normal'`` for the others.
        **kwargs: ResNet ``Bottleneck`` arguments (``stride``, ``dilation``, ``dcn``, ...);
            with ``dcn`` every 3x3 conv of ``convs`` is deformable.
    """

    expansion = 4

    def __init__(self, inplanes: int, planes: int, scales: int = 4, base_width: int = 26,
                 base_channels: int = 64, stage_type: str = "normal", **kwargs: Any) -> None:
        _check(scales > 1, f"Res2Net degenerates to ResNet when scales = 1, got scales={scales}")
        _check(stage_type in ("normal", "stage"),
               f"stage_type must be 'normal' or 'stage', got {stage_type!r}")
        # Read by ``_build_layers`` while the base class builds the block.
        self.scales = scales
        self.width = int(math.floor(planes * (base_width / base_channels)))
        self.stage_type = stage_type
        super().__init__(inplanes, planes, **kwargs)
        # Built after relu and downsample, so the module order is MMDetection's.
        if stage_type == "stage" and self.conv2_stride != 1:
            self.pool = nn.AvgPool2d(kernel_size=3, stride=self.conv2_stride, padding=1)
        conv_cfg = self._conv2_cfg()
        convs, bns = [], []
        for i in range(scales - 1):
            convs.append(build_conv_layer(conv_cfg, self.width, self.width, kernel_size=3,
                                          stride=self.conv2_stride, padding=self.dilation,
                                          dilation=self.dilation, bias=False))
            bns.append(build_norm_layer(self.norm_cfg, self.width, postfix=i + 1)[1])
        self.convs = nn.ModuleList(convs)
        self.bns = nn.ModuleList(bns)

    def _take_fallback_on_stride(self) -> bool:
        # As MMDetection's Bottle2neck: its ResNet ``__init__`` pops the key first (building a
        # conv2 that is then deleted), so the block's own lookup never finds it.
        super()._take_fallback_on_stride()
        return False

    def _build_layers(self) -> None:
        """conv1 and norm1 (``width * scales`` channels), conv3 and norm3; no conv2/norm2."""
        out_channels = self.planes * self.expansion
        self.norm1_name, norm1 = build_norm_layer(self.norm_cfg, self.width * self.scales,
                                                  postfix=1)
        self.norm3_name, norm3 = build_norm_layer(self.norm_cfg, out_channels, postfix=3)
        self.conv1 = build_conv_layer(self.conv_cfg, self.inplanes, self.width * self.scales,
                                      kernel_size=1, stride=self.conv1_stride, bias=False)
        self.add_module(self.norm1_name, norm1)
        self.conv3 = build_conv_layer(self.conv_cfg, self.width * self.scales, out_channels,
                                      kernel_size=1, bias=False)
        self.add_module(self.norm3_name, norm3)

    def _inner_forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.norm1(self.conv1(x)))
        splits = torch.split(out, self.width, 1)  # scales x [N, width, H, W]
        pieces = []
        sp = splits[0]
        for i in range(self.scales - 1):
            if i > 0:
                sp = splits[i] if self.stage_type == "stage" else sp + splits[i]
            sp = self.relu(self.bns[i](self.convs[i](sp.contiguous())))
            pieces.append(sp)
        last = splits[self.scales - 1]
        if self.stage_type == "stage" and self.conv2_stride != 1:
            last = self.pool(last)
        out = self.norm3(self.conv3(torch.cat(pieces + [last], 1)))
        identity = x if self.downsample is None else self.downsample(x)
        return out + identity


class Res2Layer(ResLayer):
    """One Res2Net stage: a :class:`ResLayer` whose shortcut always average-pools first
    (``downsample.0`` pool, ``.1`` conv, ``.2`` norm) and whose first block is a ``'stage'``
    block.

    Args:
        block: the block class (:class:`Bottle2neck`).
        inplanes: input channels of the stage.
        planes: base channels of the blocks.
        num_blocks: number of blocks.
        stride: stride of the first block.
        avg_down: accepted and ignored (always average-pooled, as in MMDetection).
        conv_cfg: conv layer config.
        norm_cfg: norm layer config.
        scales: channel groups of each block.
        base_width: channels per group at ``planes == base_channels``.
        **kwargs: passed to every block (``style``, ``dcn``, ``base_channels``, ...).
    """

    def __init__(self, block: type, inplanes: int, planes: int, num_blocks: int,
                 stride: int = 1, avg_down: bool = True, conv_cfg: dict | None = None,
                 norm_cfg: dict | None = dict(type="BN"),  # noqa: B006 (never mutated)
                 scales: int = 4, base_width: int = 26, **kwargs: Any) -> None:
        super().__init__(block, inplanes, planes, num_blocks, stride=stride, avg_down=True,
                         conv_cfg=conv_cfg, norm_cfg=norm_cfg,
                         first_block_kwargs=dict(stage_type="stage"), scales=scales,
                         base_width=base_width, **kwargs)


@MODELS.register_module()
class Res2Net(ResNet):
    """Res2Net backbone: a ResNet-D (deep stem, average-pool shortcuts, ``'pytorch'`` style)
    of :class:`Bottle2neck` blocks.

    Args:
        scales: channel groups of each block (4 for ``26w_4s``).
        base_width: channels per group in the first stage (26 for ``26w_4s``).
        style: accepted and ignored: always ``'pytorch'`` (as in MMDetection).
        deep_stem: accepted and ignored: always ``True``.
        avg_down: accepted and ignored: always ``True``.
        pretrained: deprecated checkpoint name (see :class:`ResNet`).
        init_cfg: initialisation (see :class:`ResNet`).
        **kwargs: the other :class:`ResNet` arguments (``depth`` 50, 101 or 152, ``dcn``,
            ``stage_with_dcn``, ``frozen_stages``, ``norm_cfg``, ...).
    """

    arch_settings = {
        50: (Bottle2neck, (3, 4, 6, 3)),
        101: (Bottle2neck, (3, 4, 23, 3)),
        152: (Bottle2neck, (3, 8, 36, 3)),
    }

    def __init__(self, scales: int = 4, base_width: int = 26, style: str = "pytorch",
                 deep_stem: bool = True, avg_down: bool = True, pretrained: str | None = None,
                 init_cfg: dict | list | None = None, **kwargs: Any) -> None:
        ignored = {k: v for k, v in dict(style=style, deep_stem=deep_stem,
                                         avg_down=avg_down).items()
                   if v != dict(style="pytorch", deep_stem=True, avg_down=True)[k]}
        if ignored:
            logger.warning("Res2Net always uses style='pytorch', deep_stem=True, avg_down=True "
                           "(as MMDetection); ignoring %s", ignored)
        self.scales = scales
        self.base_width = base_width
        super().__init__(style="pytorch", deep_stem=True, avg_down=True, pretrained=pretrained,
                         init_cfg=init_cfg, **kwargs)

    def make_res_layer(self, **kwargs: Any) -> nn.Module:
        """One stage of :class:`Bottle2neck` blocks."""
        return Res2Layer(scales=self.scales, base_width=self.base_width,
                         base_channels=self.base_channels, **kwargs)
