"""Building blocks (conv, norm, activation, upsample, ConvModule, ...) with mmcv 1.x names.

Importing this package registers the layer types in ``detbox.registry.LAYERS``.
"""

from . import transformer  # noqa: F401 (registers FFN, DropPath, Dropout in LAYERS)
from .activation import Clamp, HSigmoid, Swish, build_activation_layer
from .conv import ConvWS2d, build_conv_layer, build_padding_layer
from .conv_module import ConvModule
from .corner_pool import CornerPool
from .csp_layer import CSPLayer, DarknetBottleneck
from .deform_conv import DeformConv2d, DeformConv2dPack, deform_conv2d
from .depthwise_separable_conv_module import DepthwiseSeparableConvModule
from .feature_adaption import FeatureAdaption
from .layer_norm_2d import LayerNorm2d
from .masked_conv import MaskedConv2d, masked_conv2d
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
    "transformer", "Clamp", "HSigmoid", "Swish", "build_activation_layer", "ConvWS2d",
    "build_conv_layer", "build_padding_layer", "ConvModule", "CornerPool", "DeformConv2d",
    "DeformConv2dPack", "deform_conv2d", "CSPLayer", "DarknetBottleneck",
    "DepthwiseSeparableConvModule", "FeatureAdaption", "LayerNorm2d", "MaskedConv2d",
    "masked_conv2d", "ModulatedDeformConv2d",
    "ModulatedDeformConv2dPack", "modulated_deform_conv2d", "build_norm_layer", "infer_abbr",
    "is_norm", "ResLayer", "Scale", "PixelShufflePack", "build_upsample_layer",
]
