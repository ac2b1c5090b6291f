"""Backbones; importing this package registers them in ``MODELS``."""

from .convnext import ConvNeXt
from .mobilenet_v2 import MobileNetV2
from .pvt import PyramidVisionTransformer, PyramidVisionTransformerV2
from .resnet import BasicBlock, Bottleneck, ResNet, ResNetV1d
from .resnext import ResNeXt
from .swin import SwinTransformer

__all__ = ["MobileNetV2", "ResNet", "ResNetV1d", "ResNeXt", "BasicBlock", "Bottleneck",
           "ConvNeXt", "PyramidVisionTransformer", "PyramidVisionTransformerV2",
           "SwinTransformer"]
