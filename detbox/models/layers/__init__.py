"""Building blocks (conv, norm, activation, upsample, ConvModule, ...) with mmcv 1.x names.

Importing this package registers the layer types in ``detbox.registry.LAYERS``.
"""

from .activation import Clamp, HSigmoid, Swish, build_activation_layer
from .conv import ConvWS2d, build_conv_layer, build_padding_layer
from .conv_module import ConvModule
from .deform_conv import DeformConv2d, DeformConv2dPack, deform_conv2d
from .depthwise_separable_conv_module import DepthwiseSeparableConvModule
from .modulated_deform_conv import (
    ModulatedDeformConv2d,
    ModulatedDeformConv2dPack,
    modulated_deform_conv2d,
)
from .norm import build_norm_layer, infer_abbr, is_norm
from .res_layer import ResLayer
from .scale import Scale
from .upsample import PixelShufflePack, build_upsample_layer

__all__ = [
    "build_conv_layer", "build_padding_layer", "build_norm_layer", "infer_abbr", "is_norm",
    "build_activation_layer", "build_upsample_layer", "ConvModule",
    "DepthwiseSeparableConvModule", "Scale", "ResLayer", "Clamp", "Swish", "HSigmoid",
    "PixelShufflePack", "ConvWS2d", "ModulatedDeformConv2d", "ModulatedDeformConv2dPack",
    "modulated_deform_conv2d", "DeformConv2d", "DeformConv2dPack", "deform_conv2d",
]
