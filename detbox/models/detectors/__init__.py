"""Detectors: they only compose backbone, neck and heads."""

from .atss import ATSS
from .base import BaseDetector
from .faster_rcnn import CascadeRCNN, FasterRCNN
from .fcos import FCOS
from .htc import HybridTaskCascade, MaskScoringRCNN
from .mask_rcnn import MaskRCNN
from .retinanet import RetinaNet
from .rpn import RPN
from .single_stage import SingleStageDetector
from .two_stage import TwoStageDetector

__all__ = ["ATSS", "BaseDetector", "CascadeRCNN", "FCOS", "FasterRCNN", "HybridTaskCascade",
           "MaskRCNN", "MaskScoringRCNN", "RetinaNet", "RPN", "SingleStageDetector",
           "TwoStageDetector"]
