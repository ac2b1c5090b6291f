"""``LayerNorm2d`` (norm type ``'LN2d'``): a LayerNorm over the channels of ``(N, C, H, W)`` maps.

MMClassification 0.25 registers it for ConvNeXt; the parameters are ``weight`` and ``bias`` of
shape ``(C,)``, as in ``nn.LayerNorm(C)``.

>>> import torch
>>> norm = LayerNorm2d(3, eps=1e-6)
>>> x = torch.randn(2, 3, 4, 5)
>>> ref = torch.nn.functional.layer_norm(x.permute(0, 2, 3, 1), (3,), eps=1e-6)
>>> torch.allclose(norm(x), ref.permute(0, 3, 1, 2), atol=1e-6)
True
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from detbox.registry import LAYERS

__all__ = ["LayerNorm2d"]


@LAYERS.register_module(name="LN2d")
class LayerNorm2d(nn.LayerNorm):
    """LayerNorm of each pixel's channel vector of a ``(N, C, H, W)`` tensor.

    Args:
        num_channels: ``C``.
        **kwargs: ``eps`` (1e-5 by default) and ``elementwise_affine`` of ``nn.LayerNorm``.
    """

    _abbr_ = "ln"

    def __init__(self, num_channels: int, **kwargs) -> None:
        super().__init__(num_channels, **kwargs)
        self.num_channels = self.normalized_shape[0]

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 4:
            raise ValueError(f"LayerNorm2d expects a (N, C, H, W) tensor, got shape "
                             f"{tuple(x.shape)}")
        out = F.layer_norm(x.permute(0, 2, 3, 1), self.normalized_shape, self.weight,
                           self.bias, self.eps)
        return out.permute(0, 3, 1, 2).contiguous()
