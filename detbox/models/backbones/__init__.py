"""Backbones; importing this package registers them in ``MODELS``."""

from .resnet import BasicBlock, Bottleneck, ResNet, ResNetV1d
from .resnext import ResNeXt

__all__ = ["ResNet", "ResNetV1d", "ResNeXt", "BasicBlock", "Bottleneck"]
