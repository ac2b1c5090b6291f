"""``mmcv.cnn``: layer builders, ``ConvModule``, weight initialisers and layer registries."""

from torch.nn import Conv2d, ConvTranspose2d, Linear, MaxPool2d  # mmcv's wrappers

from detbox.models.layers import (
    ConvModule,
    ConvWS2d,
    DepthwiseSeparableConvModule,
    Scale,
    build_activation_layer,
    build_conv_layer,
    build_norm_layer,
    build_padding_layer,
    build_upsample_layer,
    is_norm,
)
from detbox.models.layers.fuse_conv_bn import fuse_conv_bn
from detbox.models.weight_init import (
    bias_init_with_prob,
    caffe2_xavier_init,
    constant_init,
    initialize,
    kaiming_init,
    normal_init,
    trunc_normal_init,
    uniform_init,
    xavier_init,
)
from detbox.registry import LAYERS

# mmcv keeps one registry per layer kind; detbox has one for all layers.
CONV_LAYERS = NORM_LAYERS = ACTIVATION_LAYERS = UPSAMPLE_LAYERS = LAYERS
PADDING_LAYERS = PLUGIN_LAYERS = LAYERS

__all__ = [
    "ConvModule", "DepthwiseSeparableConvModule", "ConvWS2d", "Scale", "build_conv_layer",
    "build_norm_layer", "build_activation_layer", "build_upsample_layer", "build_padding_layer",
    "is_norm", "fuse_conv_bn", "xavier_init", "normal_init", "constant_init", "kaiming_init",
    "uniform_init", "trunc_normal_init", "caffe2_xavier_init", "bias_init_with_prob",
    "initialize", "CONV_LAYERS", "NORM_LAYERS", "ACTIVATION_LAYERS", "UPSAMPLE_LAYERS",
    "PADDING_LAYERS", "PLUGIN_LAYERS", "Conv2d", "ConvTranspose2d", "Linear", "MaxPool2d",
]
