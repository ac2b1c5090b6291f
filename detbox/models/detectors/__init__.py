"""Detectors: they only compose backbone, neck and heads."""

from .base import BaseDetector
from .faster_rcnn import CascadeRCNN, FasterRCNN
from .rpn import RPN
from .two_stage import TwoStageDetector

__all__ = ["BaseDetector", "CascadeRCNN", "FasterRCNN", "RPN", "TwoStageDetector"]
