"""Detectors: they only compose backbone, neck and heads."""

from .atss import ATSS
from .base import BaseDetector
from .faster_rcnn import CascadeRCNN, FasterRCNN
from .fcos import FCOS
from .retinanet import RetinaNet
from .rpn import RPN
from .single_stage import SingleStageDetector
from .two_stage import TwoStageDetector
from .yolox import YOLOX

__all__ = ["ATSS", "BaseDetector", "CascadeRCNN", "FCOS", "FasterRCNN", "RetinaNet", "RPN",
           "SingleStageDetector", "TwoStageDetector", "YOLOX"]
