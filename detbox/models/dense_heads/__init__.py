"""Dense (per-location) heads: RPN and one-stage detector heads."""

from .anchor_free_head import AnchorFreeHead
from .anchor_head import AnchorHead
from .atss_head import ATSSHead
from .base_dense_head import BaseDenseHead
from .centernet_head import CenterNetHead
from .corner_head import CornerHead
from .deformable_detr_head import DeformableDETRHead
from .detr_head import DETRHead
from .embedding_rpn_head import EmbeddingRPNHead
from .fcos_head import FCOSHead
from .gfl_head import GFLHead
from .retina_head import RetinaHead
from .rpn_head import RPNHead
from .ssd_head import SSDHead
from .tood_head import TOODHead
from .vfnet_head import VFNetHead
from .yolo_head import YOLOV3Head
from .yolox_head import YOLOXHead

__all__ = [
    "AnchorFreeHead", "AnchorHead", "ATSSHead", "BaseDenseHead", "CornerHead", "DeformableDETRHead",
    "DETRHead", "EmbeddingRPNHead", "FCOSHead", "GFLHead", "RetinaHead", "RPNHead", "TOODHead",
    "VFNetHead", "SSDHead", "YOLOXHead", "YOLOV3Head",
    "CenterNetHead",
]
