"""``NASFCOSHead``: the searched head of NAS-FCOS (Wang et al., 2020), MMDetection v2's.

``FCOSHead`` with towers of the searched operations: a deformable 3x3 (DCNv2, 2 offset
groups, with bias), a 3x3 conv, another deformable 3x3, a 1x1 conv (each a ConvModule with the
head's norm); targets, losses and decoding are FCOS's.
"""

from __future__ import annotations

import copy
from typing import Any

from torch import nn

from ...registry import MODELS
from ..layers import ConvModule, Scale
from .fcos_head import FCOSHead

__all__ = ["NASFCOSHead"]

_ARCH = (dict(type="DCNv2", kernel_size=3, use_bias=True, deform_groups=2, padding=1),
         dict(type="Conv", kernel_size=3, padding=1),
         dict(type="DCNv2", kernel_size=3, use_bias=True, deform_groups=2, padding=1),
         dict(type="Conv", kernel_size=1))


@MODELS.register_module()
class NASFCOSHead(FCOSHead):
    """NAS-FCOS's head.

    Args:
        init_cfg: initialisation (Caffe2-Xavier convs; normal std 0.01 predictors,
            ``conv_cls`` bias for prior 0.01).
        *args, **kwargs: ``FCOSHead`` arguments.
    """

    def __init__(self, *args: Any, init_cfg: dict | list | None = None, **kwargs: Any) -> None:
        if init_cfg is None:
            init_cfg = [
                dict(type="Caffe2Xavier", layer=["ConvModule", "Conv2d"]),
                dict(type="Normal", std=0.01, override=[
                    dict(name="conv_reg"), dict(name="conv_centerness"),
                    dict(name="conv_cls", type="Normal", std=0.01, bias_prob=0.01)]),
            ]
        super().__init__(*args, init_cfg=init_cfg, **kwargs)

    def _init_layers(self) -> None:
        self.arch_config = [copy.deepcopy(op) for op in _ARCH]
        self.cls_convs = nn.ModuleList()
        self.reg_convs = nn.ModuleList()
        for i, op_ in enumerate(self.arch_config):
            op = copy.deepcopy(op_)
            channels = self.in_channels if i == 0 else self.feat_channels
            use_bias = op.pop("use_bias", False)
            padding = op.pop("padding", 0)
            kernel_size = op.pop("kernel_size")
            for tower in (self.cls_convs, self.reg_convs):
                tower.append(ConvModule(channels, self.feat_channels, kernel_size, stride=1,
                                        padding=padding, norm_cfg=self.norm_cfg,
                                        bias=use_bias, conv_cfg=copy.deepcopy(op)))
        self.conv_cls = nn.Conv2d(self.feat_channels, self.cls_out_channels, 3, padding=1)
        self.conv_reg = nn.Conv2d(self.feat_channels, 4, 3, padding=1)
        self.conv_centerness = nn.Conv2d(self.feat_channels, 1, 3, padding=1)
        self.scales = nn.ModuleList([Scale(1.0) for _ in self.strides])
