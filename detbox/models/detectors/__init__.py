"""Detectors: they only compose backbone, neck and heads."""

from .atss import ATSS
from .autoassign import AutoAssign
from .base import BaseDetector
from .ddod import DDOD
from .faster_rcnn import CascadeRCNN, FasterRCNN
from .fcos import FCOS
from .fovea import FOVEA
from .fsaf import FSAF
from .gfl import GFL
from .nasfcos import NASFCOS
from .paa import PAA
from .reppoints_detector import RepPointsDetector
from .retinanet import RetinaNet
from .rpn import RPN
from .single_stage import SingleStageDetector
from .tood import TOOD
from .two_stage import TwoStageDetector
from .vfnet import VFNet
from .yolof import YOLOF

__all__ = ["ATSS", "BaseDetector", "CascadeRCNN", "FCOS", "FasterRCNN", "RetinaNet", "RPN",
           "SingleStageDetector", "TwoStageDetector", "GFL", "TOOD", "VFNet", "FSAF", "PAA",
           "YOLOF", "RepPointsDetector", "FOVEA", "NASFCOS", "AutoAssign", "DDOD"]
