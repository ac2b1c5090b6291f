"""``DepthwiseSeparableConvModule``: a depthwise ``ConvModule`` then a pointwise one (mmcv 1.x).

>>> m = DepthwiseSeparableConvModule(4, 8, 3, padding=1)
>>> m.depthwise_conv.conv.weight.shape, m.pointwise_conv.conv.weight.shape
(torch.Size([4, 1, 3, 3]), torch.Size([8, 4, 1, 1]))
"""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from .conv_module import ConvModule, IntPair

__all__ = ["DepthwiseSeparableConvModule"]

_DEFAULT = "default"


class DepthwiseSeparableConvModule(nn.Module):
    """Depthwise conv (``groups=in_channels``) followed by a 1x1 conv, each a ``ConvModule``.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        kernel_size: depthwise kernel size.
        stride: depthwise stride.
        padding: depthwise padding.
        dilation: depthwise dilation.
        norm_cfg: norm of both convs unless ``dw_norm_cfg``/``pw_norm_cfg`` say otherwise.
        act_cfg: activation of both convs unless ``dw_act_cfg``/``pw_act_cfg`` say otherwise.
        dw_norm_cfg: norm of the depthwise conv; ``'default'`` takes ``norm_cfg``.
        dw_act_cfg: activation of the depthwise conv; ``'default'`` takes ``act_cfg``.
        pw_norm_cfg: norm of the pointwise conv; ``'default'`` takes ``norm_cfg``.
        pw_act_cfg: activation of the pointwise conv; ``'default'`` takes ``act_cfg``.
        **kwargs: other ``ConvModule`` arguments, given to both (not ``groups``).
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: IntPair,
                 stride: IntPair = 1,
                 padding: IntPair = 0,
                 dilation: IntPair = 1,
                 norm_cfg: dict | None = None,
                 act_cfg: dict | None = dict(type="ReLU"),  # noqa: B006 (never mutated)
                 dw_norm_cfg: dict | str | None = _DEFAULT,
                 dw_act_cfg: dict | str | None = _DEFAULT,
                 pw_norm_cfg: dict | str | None = _DEFAULT,
                 pw_act_cfg: dict | str | None = _DEFAULT,
                 **kwargs: Any) -> None:
        super().__init__()
        if "groups" in kwargs:
            raise TypeError("DepthwiseSeparableConvModule sets groups itself; do not pass it")
        dw_norm_cfg = norm_cfg if dw_norm_cfg == _DEFAULT else dw_norm_cfg
        dw_act_cfg = act_cfg if dw_act_cfg == _DEFAULT else dw_act_cfg
        pw_norm_cfg = norm_cfg if pw_norm_cfg == _DEFAULT else pw_norm_cfg
        pw_act_cfg = act_cfg if pw_act_cfg == _DEFAULT else pw_act_cfg
        self.depthwise_conv = ConvModule(in_channels, in_channels, kernel_size, stride=stride,
                                         padding=padding, dilation=dilation, groups=in_channels,
                                         norm_cfg=dw_norm_cfg, act_cfg=dw_act_cfg, **kwargs)
        self.pointwise_conv = ConvModule(in_channels, out_channels, 1, norm_cfg=pw_norm_cfg,
                                         act_cfg=pw_act_cfg, **kwargs)

    def forward(self, x: Tensor) -> Tensor:
        """``Tensor[N, in_channels, H, W] -> Tensor[N, out_channels, H', W']``."""
        return self.pointwise_conv(self.depthwise_conv(x))
