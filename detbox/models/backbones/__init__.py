"""Backbones; importing this package registers them in ``MODELS``."""

from .convnext import ConvNeXt
from .csp_darknet import CSPDarknet
from .darknet import Darknet
from .hourglass import HourglassNet
from .mobilenet_v2 import MobileNetV2
from .pvt import PyramidVisionTransformer, PyramidVisionTransformerV2
from .res2net import Res2Net
from .resnet import BasicBlock, Bottleneck, ResNet, ResNetV1d
from .resnext import ResNeXt
from .ssd_vgg import SSDVGG
from .swin import SwinTransformer

__all__ = [
    "ConvNeXt", "CSPDarknet", "HourglassNet", "MobileNetV2", "PyramidVisionTransformer",
    "PyramidVisionTransformerV2", "BasicBlock", "Bottleneck", "ResNet", "ResNetV1d", "ResNeXt",
    "SwinTransformer", "SSDVGG", "Darknet", "Res2Net",
]
