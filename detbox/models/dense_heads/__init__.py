"""Dense (per-location) heads: RPN and one-stage detector heads."""

from .anchor_free_head import AnchorFreeHead
from .anchor_head import AnchorHead
from .atss_head import ATSSHead
from .autoassign_head import AutoAssignHead
from .base_dense_head import BaseDenseHead
from .centernet_head import CenterNetHead
from .corner_head import CornerHead
from .ddod_head import DDODHead
from .deformable_detr_head import DeformableDETRHead
from .detr_head import DETRHead
from .embedding_rpn_head import EmbeddingRPNHead
from .fcos_head import FCOSHead
from .fovea_head import FoveaHead
from .free_anchor_retina_head import FreeAnchorRetinaHead
from .fsaf_head import FSAFHead
from .ga_retina_head import GARetinaHead
from .ga_rpn_head import GARPNHead
from .gfl_head import GFLHead
from .guided_anchor_head import FeatureAdaption, GuidedAnchorHead
from .nasfcos_head import NASFCOSHead
from .paa_head import PAAHead
from .reppoints_head import RepPointsHead
from .retina_head import RetinaHead
from .rpn_head import RPNHead
from .ssd_head import SSDHead
from .tood_head import TOODHead
from .vfnet_head import VFNetHead
from .yolo_head import YOLOV3Head
from .yolof_head import YOLOFHead
from .yolox_head import YOLOXHead

__all__ = [
    "AnchorFreeHead", "AnchorHead", "ATSSHead", "AutoAssignHead", "BaseDenseHead",
    "CenterNetHead", "CornerHead", "DDODHead", "DeformableDETRHead", "DETRHead",
    "EmbeddingRPNHead", "FCOSHead", "FoveaHead", "FreeAnchorRetinaHead", "FSAFHead", "GFLHead",
    "FeatureAdaption", "GARetinaHead", "GARPNHead", "GuidedAnchorHead",
    "NASFCOSHead", "PAAHead", "RepPointsHead", "RetinaHead", "RPNHead", "SSDHead", "TOODHead",
    "VFNetHead", "YOLOFHead", "YOLOXHead", "YOLOV3Head",
]
