"""Dense (per-location) heads: RPN and one-stage detector heads."""

from .anchor_free_head import AnchorFreeHead
from .anchor_head import AnchorHead
from .ascend_anchor_head import AscendAnchorHead
from .ascend_retina_head import AscendRetinaHead
from .ascend_ssd_head import AscendSSDHead
from .atss_head import ATSSHead
from .autoassign_head import AutoAssignHead
from .base_dense_head import BaseDenseHead
from .centernet_head import CenterNetHead
from .centripetal_head import CentripetalHead
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
from .lad_head import LADHead
from .ld_head import LDHead
from .nasfcos_head import NASFCOSHead
from .paa_head import PAAHead
from .reppoints_head import RepPointsHead
from .retina_head import RetinaHead
from .rpn_head import RPNHead
from .sabl_retina_head import SABLRetinaHead
from .ssd_head import SSDHead
from .tood_head import TOODHead
from .vfnet_head import VFNetHead
from .yolo_head import YOLOV3Head
from .yolof_head import YOLOFHead
from .yolox_head import YOLOXHead

__all__ = [
    "AnchorFreeHead", "AnchorHead", "AscendAnchorHead", "AscendRetinaHead", "AscendSSDHead",
    "ATSSHead", "AutoAssignHead", "BaseDenseHead", "CenterNetHead", "CentripetalHead",
    "CornerHead", "DDODHead", "DeformableDETRHead", "DETRHead", "EmbeddingRPNHead", "FCOSHead",
    "FoveaHead", "FreeAnchorRetinaHead", "FSAFHead", "GARetinaHead", "GARPNHead", "GFLHead",
    "LADHead", "LDHead", "FeatureAdaption", "GuidedAnchorHead", "NASFCOSHead", "PAAHead",
    "RepPointsHead", "RetinaHead", "RPNHead", "SABLRetinaHead", "SSDHead", "TOODHead",
    "VFNetHead", "YOLOV3Head", "YOLOFHead", "YOLOXHead",
]
