"""``NASFCOS_FPN``: the searched feature pyramid of NAS-FCOS (Wang et al., 2020), v2's names.

Inputs from ``start_level`` go through 1x1 ``adapt_convs`` (BN, ReLU) to ``out_channels``;
seven :class:`ConcatCell` s (``fpn.c22_1``, ``c22_2``, ``c32``, ``c02``, ``c42``, ``c36``,
``c61``; the digits name the two feature indices each merges, new features appended in
order) build the searched topology; P3-P5 are features 9, 8, 7 plus feature 5 resized
bilinearly, resized to the input levels' sizes; ``extra_downsamples`` (stride-2 3x3 convs,
order act-norm-conv) add the remaining levels.
"""

from __future__ import annotations

from typing import Sequence

import torch.nn.functional as F
from torch import Tensor, nn

from detbox.registry import MODELS

from ..base_module import BaseModule
from ..layers import ConvModule
from ..layers.merge_cells import ConcatCell
from ..weight_init import caffe2_xavier_init

__all__ = ["NASFCOS_FPN"]

_CELLS = (("c22_1", True), ("c22_2", True), ("c32", False), ("c02", False), ("c42", True),
          ("c36", True), ("c61", True))


@MODELS.register_module()
class NASFCOS_FPN(BaseModule):  # noqa: N801 (MMDetection's type name)
    """NAS-FCOS's neck.

    Args:
        in_channels: channels of each backbone level.
        out_channels: channels of every output.
        num_outs: number of outputs.
        start_level: first backbone level used.
        end_level: last backbone level used (-1: the last).
        add_extra_convs: accepted for MMDetection's signature (extra levels are always convs).
        conv_cfg: conv layer config of the cells' input convs.
        norm_cfg: norm of the cells' input convs.
        init_cfg: must be ``None`` (the neck initialises itself).
    """

    def __init__(self, in_channels: Sequence[int], out_channels: int, num_outs: int,
                 start_level: int = 1, end_level: int = -1, add_extra_convs: bool = False,
                 conv_cfg: dict | None = None, norm_cfg: dict | None = None,
                 init_cfg: dict | None = None) -> None:
        if init_cfg is not None:
            raise AssertionError("NASFCOS_FPN: init_cfg is not allowed to be set")
        super().__init__(init_cfg)
        if not isinstance(in_channels, (list, tuple)):
            raise AssertionError("NASFCOS_FPN: in_channels must be a list")
        self.in_channels = list(in_channels)
        self.out_channels = out_channels
        self.num_ins = len(in_channels)
        self.num_outs = num_outs
        self.norm_cfg = norm_cfg
        self.conv_cfg = conv_cfg
        if end_level == -1 or end_level == self.num_ins - 1:
            self.backbone_end_level = self.num_ins
            if num_outs < self.num_ins - start_level:
                raise AssertionError("NASFCOS_FPN: num_outs is too small")
        else:
            self.backbone_end_level = end_level + 1
            if not (end_level < self.num_ins and num_outs == end_level - start_level + 1):
                raise AssertionError("NASFCOS_FPN: end_level and num_outs do not match")
        self.start_level = start_level
        self.end_level = end_level
        self.add_extra_convs = add_extra_convs
        self.adapt_convs = nn.ModuleList([
            ConvModule(in_channels[i], out_channels, 1, stride=1, padding=0, bias=False,
                       norm_cfg=dict(type="BN"), act_cfg=dict(type="ReLU", inplace=False))
            for i in range(start_level, self.backbone_end_level)])
        self.fpn = nn.ModuleDict({
            name: ConcatCell(out_channels, out_channels, with_out_conv=True,
                             out_conv_cfg=dict(kernel_size=1, padding=0, bias=False,
                                               groups=out_channels),
                             out_norm_cfg=dict(type="BN"),
                             out_conv_order=("norm", "act", "conv"),
                             with_input1_conv=True, with_input2_conv=input2,
                             input_conv_cfg=conv_cfg, input_norm_cfg=norm_cfg,
                             upsample_mode="nearest")
            for name, input2 in _CELLS})
        extra_levels = num_outs - self.backbone_end_level + start_level
        self.extra_downsamples = nn.ModuleList([
            ConvModule(out_channels, out_channels, 3, stride=2, padding=1,
                       act_cfg=None if i == 0 else dict(type="ReLU", inplace=False),
                       order=("act", "norm", "conv"))
            for i in range(extra_levels)])

    def forward(self, inputs: Sequence[Tensor]) -> tuple[Tensor, ...]:
        feats = [conv(inputs[i + self.start_level]) for i, conv in enumerate(self.adapt_convs)]
        for name, cell in self.fpn.items():
            feats.append(cell(feats[int(name[1])], feats[int(name[2])]))
        outs = []
        for idx, input_idx in zip((9, 8, 7), (1, 2, 3)):  # P3, P4, P5
            summed = feats[idx] + F.interpolate(feats[5], size=feats[idx].size()[2:],
                                                mode="bilinear", align_corners=False)
            outs.append(F.interpolate(summed, size=inputs[input_idx].size()[2:],
                                      mode="bilinear", align_corners=False))
        for conv in self.extra_downsamples:
            outs.append(conv(outs[-1]))
        return tuple(outs)

    def init_weights(self) -> None:
        """The children's own init, then Caffe2-Xavier for the adapt and extra convs (the
        cells' output convs keep theirs: MMDetection's check for them never matches)."""
        super().init_weights()
        for modules in (self.adapt_convs.modules(), self.extra_downsamples.modules()):
            for module in modules:
                if isinstance(module, nn.Conv2d):
                    caffe2_xavier_init(module)
