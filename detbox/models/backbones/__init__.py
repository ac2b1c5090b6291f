"""Backbones; importing this package registers them in ``MODELS``."""

from .csp_darknet import CSPDarknet
from .mobilenet_v2 import MobileNetV2
from .resnet import BasicBlock, Bottleneck, ResNet, ResNetV1d
from .resnext import ResNeXt
from .ssd_vgg import SSDVGG

__all__ = ["MobileNetV2", "ResNet", "ResNetV1d", "ResNeXt", "BasicBlock", "Bottleneck",
           "CSPDarknet", "SSDVGG"]
