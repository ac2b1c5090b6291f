"""Upsample layers built from configs (mmcv 1.x's ``UPSAMPLE_LAYERS``).

``'nearest'`` and ``'bilinear'`` are ``nn.Upsample`` with that mode; ``'deconv'`` is
``nn.ConvTranspose2d``; ``'pixel_shuffle'`` is a conv followed by ``F.pixel_shuffle``.

>>> build_upsample_layer(dict(type='nearest', scale_factor=2))
Upsample(scale_factor=2.0, mode='nearest')
>>> build_upsample_layer(dict(type='deconv'), 4, 2, kernel_size=2, stride=2)
ConvTranspose2d(4, 2, kernel_size=(2, 2), stride=(2, 2))
"""

from __future__ import annotations

from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn

from detbox.registry import LAYERS

from ._lookup import layer_class

__all__ = ["build_upsample_layer", "PixelShufflePack", "UPSAMPLE_TYPES"]


class PixelShufflePack(nn.Module):
    """Upsample by a conv to ``out_channels * scale_factor ** 2`` channels and pixel shuffle.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        scale_factor: upsampling ratio.
        upsample_kernel: kernel size of the conv (padding keeps the size).
    """

    def __init__(self, in_channels: int, out_channels: int, scale_factor: int,
                 upsample_kernel: int) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.scale_factor = scale_factor
        self.upsample_kernel = upsample_kernel
        self.upsample_conv = nn.Conv2d(in_channels, out_channels * scale_factor * scale_factor,
                                       upsample_kernel, padding=(upsample_kernel - 1) // 2)
        self.init_weights()

    def init_weights(self) -> None:
        """Xavier-uniform weights, zero bias."""
        nn.init.xavier_uniform_(self.upsample_conv.weight)
        nn.init.constant_(self.upsample_conv.bias, 0)

    def forward(self, x: Tensor) -> Tensor:
        """``Tensor[N, C, H, W] -> Tensor[N, out_channels, H * s, W * s]``."""
        return F.pixel_shuffle(self.upsample_conv(x), self.scale_factor)


UPSAMPLE_TYPES: dict[str, type] = {
    "nearest": nn.Upsample,
    "bilinear": nn.Upsample,
    "deconv": nn.ConvTranspose2d,
    "pixel_shuffle": PixelShufflePack,
}
for _name, _cls in UPSAMPLE_TYPES.items():
    LAYERS.register_module(name=_name, module=_cls)


def build_upsample_layer(cfg: dict, *args: Any, **kwargs: Any) -> nn.Module:
    """An upsample layer; for ``nn.Upsample`` types the ``type`` becomes its ``mode``."""
    cls, cfg_args = layer_class(cfg, "upsample", UPSAMPLE_TYPES)
    if cls is nn.Upsample:
        cfg_args["mode"] = cfg["type"]
    return cls(*args, **kwargs, **cfg_args)
