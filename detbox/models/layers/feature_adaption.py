"""``FeatureAdaption``: Guided Anchoring's feature adaption (mmdet v2's module and names).

A deformable conv (``conv_adaption``, DCNv1, no bias) whose offsets are a 1x1 conv
(``conv_offset``, no bias) of the predicted anchor shape ``(dw, dh)`` (detached), then ReLU:
features are resampled to fit the anchor each location will use.

>>> import torch
>>> adapt = FeatureAdaption(4, 6, kernel_size=3, deform_groups=2)
>>> tuple(adapt(torch.randn(1, 4, 5, 5), torch.zeros(1, 2, 5, 5)).shape)
(1, 6, 5, 5)
"""

from __future__ import annotations

from torch import Tensor, nn

from ..base_module import BaseModule
from .deform_conv import DeformConv2d

__all__ = ["FeatureAdaption"]


class FeatureAdaption(BaseModule):
    """A deformable conv whose offsets are a 1x1 conv of the (detached) anchor shape.

    FoveaBox's ``FeatureAlign`` is the same module on the 4 predicted box distances, not
    detached.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        kernel_size: deformable conv kernel.
        deform_groups: offset groups.
        init_cfg: default normal std 0.1 convs, ``conv_adaption`` std 0.01.
        shape_channels: channels of the shape the offsets come from (2: ``(dw, dh)``).
        detach_shape: stop the adaption's gradient into the shape (Guided Anchoring does).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3,
                 deform_groups: int = 4, init_cfg: dict | list | None = None,
                 shape_channels: int = 2, detach_shape: bool = True) -> None:
        if init_cfg is None:
            init_cfg = dict(type="Normal", layer="Conv2d", std=0.1,
                            override=dict(type="Normal", name="conv_adaption", std=0.01))
        super().__init__(init_cfg)
        offset_channels = kernel_size * kernel_size * 2
        self.conv_offset = nn.Conv2d(shape_channels, deform_groups * offset_channels, 1,
                                     bias=False)
        self.conv_adaption = DeformConv2d(in_channels, out_channels, kernel_size=kernel_size,
                                          padding=(kernel_size - 1) // 2,
                                          deform_groups=deform_groups)
        self.relu = nn.ReLU(inplace=True)
        self.detach_shape = detach_shape

    def forward(self, x: Tensor, shape: Tensor) -> Tensor:
        """``x: Tensor[B, C_in, H, W]``, ``shape: Tensor[B, shape_channels, H, W]`` ->
        ``[B, C_out, H, W]``."""
        if self.detach_shape:
            shape = shape.detach()
        return self.relu(self.conv_adaption(x, self.conv_offset(shape)))
