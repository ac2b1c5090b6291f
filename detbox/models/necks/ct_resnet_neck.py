"""``CTResNetNeck``: CenterNet's upsampling neck on a ResNet (MMDetection v2's names).

On the backbone's last map only: per stage a 3x3 ``ConvModule`` (a DCNv2 with ``use_dcn``)
to ``num_deconv_filters[i]`` channels, then a stride-2 transposed-conv ``ConvModule`` (kernel
``num_deconv_kernels[i]``, padding 1) doubling the resolution; conv + BN + ReLU each. The
modules are ``deconv_layers.{0, 1, ...}``. Returns a 1-tuple.

>>> import torch
>>> neck = CTResNetNeck(16, (8, 4), (4, 4), use_dcn=False)
>>> tuple(neck([torch.zeros(1, 16, 4, 4)])[0].shape)
(1, 4, 16, 16)
"""

from __future__ import annotations

import math
from typing import Sequence

from torch import Tensor, nn

from ...registry import MODELS
from ..base_module import BaseModule
from ..layers import ConvModule

__all__ = ["CTResNetNeck"]


@MODELS.register_module()
class CTResNetNeck(BaseModule):
    """The neck of CenterNet.

    Args:
        in_channel: channels of the backbone's last map.
        num_deconv_filters: per stage output channels.
        num_deconv_kernels: per stage transposed-conv kernel size.
        use_dcn: the 3x3 convs are DCNv2.
        init_cfg: initialisation config (the neck's :meth:`init_weights` replaces it).
    """

    def __init__(self, in_channel: int, num_deconv_filters: Sequence[int],
                 num_deconv_kernels: Sequence[int], use_dcn: bool = True,
                 init_cfg: dict | list | None = None) -> None:
        super().__init__(init_cfg)
        if len(num_deconv_filters) != len(num_deconv_kernels):
            raise AssertionError(f"CTResNetNeck: num_deconv_filters {list(num_deconv_filters)}"
                                 f" and num_deconv_kernels {list(num_deconv_kernels)} differ "
                                 "in length")
        self.fp16_enabled = False
        self.use_dcn = use_dcn
        self.in_channel = in_channel
        self.deconv_layers = self._make_deconv_layer(num_deconv_filters, num_deconv_kernels)

    def _make_deconv_layer(self, num_deconv_filters: Sequence[int],
                           num_deconv_kernels: Sequence[int]) -> nn.Sequential:
        layers = []
        for filters, kernel in zip(num_deconv_filters, num_deconv_kernels):
            layers.append(ConvModule(self.in_channel, filters, 3, padding=1,
                                     conv_cfg=dict(type="DCNv2") if self.use_dcn else None,
                                     norm_cfg=dict(type="BN")))
            layers.append(ConvModule(filters, filters, kernel, stride=2, padding=1,
                                     conv_cfg=dict(type="deconv"), norm_cfg=dict(type="BN")))
            self.in_channel = filters
        return nn.Sequential(*layers)

    def init_weights(self) -> None:
        """Transposed convs as bilinear upsampling (the first filter copied to every output
        channel), BNs at (1, 0), plain convs at PyTorch's default (MMDetection's rules)."""
        for m in self.modules():
            if isinstance(m, nn.ConvTranspose2d):
                m.reset_parameters()
                w = m.weight.data
                f = math.ceil(w.size(2) / 2)
                c = (2 * f - 1 - f % 2) / (2.0 * f)
                for i in range(w.size(2)):
                    for j in range(w.size(3)):
                        w[0, 0, i, j] = (1 - math.fabs(i / f - c)) * (1 - math.fabs(j / f - c))
                for ch in range(1, w.size(0)):
                    w[ch, 0, :, :] = w[0, 0, :, :]
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
            elif not self.use_dcn and isinstance(m, nn.Conv2d):
                m.reset_parameters()

    def forward(self, inputs: Sequence[Tensor]) -> tuple[Tensor]:
        """Backbone maps -> ``(Tensor[N, filters[-1], 2^S H, 2^S W],)`` from the last map."""
        if not isinstance(inputs, (list, tuple)):
            raise TypeError("CTResNetNeck expects a list or tuple of feature maps")
        return (self.deconv_layers(inputs[-1]),)
