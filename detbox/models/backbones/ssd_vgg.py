"""``SSDVGG``: VGG with SSD's fc6/fc7 convolutions (MMDetection v2 / mmcv 1.x layout).

``features`` is one ``nn.Sequential`` holding mmcv's VGG (3x3 conv, [BN,] ReLU per block, a
2x2 max-pool after each stage; the last pool dropped without ``with_last_pool``), then a 3x3
stride-1 max-pool, the dilated 3x3 conv "fc6" (1024 channels, dilation 6), ReLU, the 1x1 "fc7"
and ReLU. The outputs are the features after the layers of ``out_feature_indices`` (VGG16:
conv4_3's ReLU at 22 and fc7's ReLU at 34), so the state_dict keys read ``features.<i>.weight``.

>>> import torch
>>> net = SSDVGG(depth=16, out_feature_indices=(22, 34)).eval()
>>> [tuple(f.shape) for f in net(torch.zeros(1, 3, 64, 64))]
[(1, 512, 8, 8), (1, 1024, 4, 4)]
"""

from __future__ import annotations

import warnings
from typing import Sequence

from torch import Tensor, nn

from ...registry import MODELS
from ..base_module import BaseModule
from .stage_utils import pretrained_init_cfg

__all__ = ["SSDVGG", "vgg_layers"]

_STAGE_BLOCKS = {11: (1, 1, 2, 2, 2), 13: (2, 2, 2, 2, 2), 16: (2, 2, 3, 3, 3),
                 19: (2, 2, 4, 4, 4)}


def vgg_layers(depth: int, with_bn: bool = False, num_stages: int = 5,
               dilations: Sequence[int] = (1, 1, 1, 1, 1), ceil_mode: bool = False,
               with_last_pool: bool = True) -> list[nn.Module]:
    """mmcv's VGG feature layers in order (64, 128, 256, 512, 512 channels per stage)."""
    if depth not in _STAGE_BLOCKS:
        raise KeyError(f"invalid depth {depth} for vgg (one of {sorted(_STAGE_BLOCKS)})")
    layers: list[nn.Module] = []
    in_ch = 3
    for i, num_blocks in enumerate(_STAGE_BLOCKS[depth][:num_stages]):
        planes = 64 * 2 ** i if i < 4 else 512
        for _ in range(num_blocks):
            layers.append(nn.Conv2d(in_ch, planes, 3, padding=dilations[i],
                                    dilation=dilations[i]))
            if with_bn:
                layers.append(nn.BatchNorm2d(planes))
            layers.append(nn.ReLU(inplace=True))
            in_ch = planes
        layers.append(nn.MaxPool2d(kernel_size=2, stride=2, ceil_mode=ceil_mode))
    if not with_last_pool:
        layers.pop(-1)
    return layers


@MODELS.register_module()
class SSDVGG(BaseModule):
    """VGG backbone of SSD.

    Args:
        depth: 11, 13, 16 or 19.
        with_last_pool: keep the last stage's max-pool.
        ceil_mode: ceil mode of the max-pools.
        out_indices: stages of mmcv's VGG (unused by the forward, kept for configs).
        out_feature_indices: indices in ``features`` whose outputs are returned.
        pretrained: deprecated; use ``init_cfg``.
        init_cfg: initialisation (default Kaiming convs, BN at 1, normal linears).
        input_size: deprecated, ignored.
        l2_norm_scale: deprecated (the L2 norm is in ``SSDNeck``), ignored.
    """

    def __init__(self, depth: int, with_last_pool: bool = False, ceil_mode: bool = True,
                 out_indices: Sequence[int] = (3, 4),
                 out_feature_indices: Sequence[int] = (22, 34), pretrained: str | None = None,
                 init_cfg: dict | list | None = None, input_size: int | None = None,
                 l2_norm_scale: float | None = None) -> None:
        init_cfg = pretrained_init_cfg(pretrained, init_cfg, [
            dict(type="Kaiming", layer="Conv2d"),
            dict(type="Constant", val=1, layer="BatchNorm2d"),
            dict(type="Normal", std=0.01, layer="Linear")])
        super().__init__(init_cfg)
        if input_size is not None:
            warnings.warn("DeprecationWarning: input_size is deprecated", stacklevel=2)
        if l2_norm_scale is not None:
            warnings.warn("DeprecationWarning: l2_norm_scale in VGG is deprecated, it has been "
                          "moved to SSDNeck.", stacklevel=2)
        self.out_indices = out_indices
        self.out_feature_indices = tuple(out_feature_indices)
        layers = vgg_layers(depth, ceil_mode=ceil_mode, with_last_pool=with_last_pool)
        layers += [nn.MaxPool2d(kernel_size=3, stride=1, padding=1),
                   nn.Conv2d(512, 1024, kernel_size=3, padding=6, dilation=6),
                   nn.ReLU(inplace=True), nn.Conv2d(1024, 1024, kernel_size=1),
                   nn.ReLU(inplace=True)]
        self.features = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor | tuple[Tensor, ...]:
        """``Tensor[N, 3, H, W]`` -> the features of ``out_feature_indices``."""
        outs = []
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in self.out_feature_indices:
                outs.append(x)
        return outs[0] if len(outs) == 1 else tuple(outs)
