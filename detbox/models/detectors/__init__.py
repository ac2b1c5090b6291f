"""Detectors: they only compose backbone, neck and heads."""

from .atss import ATSS
from .autoassign import AutoAssign
from .base import BaseDetector
from .centernet import CenterNet
from .cornernet import CornerNet
from .ddod import DDOD
from .deformable_detr import DeformableDETR
from .detr import DETR
from .fast_rcnn import FastRCNN
from .faster_rcnn import CascadeRCNN, FasterRCNN
from .fcos import FCOS
from .fovea import FOVEA
from .fsaf import FSAF
from .gfl import GFL
from .htc import HybridTaskCascade, MaskScoringRCNN
from .kd_one_stage import KnowledgeDistillationSingleStageDetector
from .lad import LAD
from .mask_rcnn import MaskRCNN
from .nasfcos import NASFCOS
from .paa import PAA
from .reppoints_detector import RepPointsDetector
from .retinanet import RetinaNet
from .rpn import RPN
from .single_stage import SingleStageDetector
from .sparse_rcnn import SparseRCNN
from .tood import TOOD
from .two_stage import TwoStageDetector
from .vfnet import VFNet
from .yolo import YOLOV3
from .yolof import YOLOF
from .yolox import YOLOX

__all__ = [
    "ATSS", "AutoAssign", "BaseDetector", "CenterNet", "CornerNet", "DDOD", "DeformableDETR",
    "DETR", "FastRCNN", "CascadeRCNN", "FasterRCNN", "FCOS", "FOVEA", "FSAF", "GFL",
    "HybridTaskCascade", "MaskScoringRCNN", "KnowledgeDistillationSingleStageDetector", "LAD",
    "MaskRCNN", "NASFCOS", "PAA", "RepPointsDetector", "RetinaNet", "RPN",
    "SingleStageDetector", "SparseRCNN", "TOOD", "TwoStageDetector", "VFNet", "YOLOV3",
    "YOLOF", "YOLOX",
]
