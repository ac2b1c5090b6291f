"""Detectors: they only compose backbone, neck and heads."""

from .atss import ATSS
from .base import BaseDetector
from .centernet import CenterNet
from .cornernet import CornerNet
from .deformable_detr import DeformableDETR
from .detr import DETR
from .faster_rcnn import CascadeRCNN, FasterRCNN
from .fcos import FCOS
from .gfl import GFL
from .retinanet import RetinaNet
from .rpn import RPN
from .single_stage import SingleStageDetector
from .sparse_rcnn import SparseRCNN
from .tood import TOOD
from .two_stage import TwoStageDetector
from .vfnet import VFNet
from .yolo import YOLOV3
from .yolox import YOLOX

__all__ = [
    "ATSS", "BaseDetector", "DeformableDETR", "DETR", "CascadeRCNN", "FasterRCNN", "FCOS",
    "GFL", "RetinaNet", "RPN", "SingleStageDetector", "SparseRCNN", "TOOD", "TwoStageDetector",
    "VFNet", "YOLOX", "YOLOV3", "CornerNet", "CenterNet",
]
