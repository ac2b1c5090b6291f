"""Detectors: they only compose backbone, neck and heads."""

from .atss import ATSS
from .base import BaseDetector
from .deformable_detr import DeformableDETR
from .detr import DETR
from .faster_rcnn import CascadeRCNN, FasterRCNN
from .fcos import FCOS
from .retinanet import RetinaNet
from .rpn import RPN
from .single_stage import SingleStageDetector
from .sparse_rcnn import SparseRCNN
from .two_stage import TwoStageDetector

__all__ = ["ATSS", "BaseDetector", "CascadeRCNN", "FCOS", "FasterRCNN", "RetinaNet", "RPN",
           "SingleStageDetector", "TwoStageDetector", "DETR", "DeformableDETR", "SparseRCNN"]
