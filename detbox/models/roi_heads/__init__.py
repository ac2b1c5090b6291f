"""RoI heads: box and mask heads on pooled region features."""

from .base_roi_head import BaseRoIHead
from .bbox_heads import BBoxHead, ConvFCBBoxHead, Shared2FCBBoxHead, Shared4Conv1FCBBoxHead
from .cascade_roi_head import CascadeRoIHead
from .htc_roi_head import HybridTaskCascadeRoIHead
from .mask_heads import FCNMaskHead, FusedSemanticHead, HTCMaskHead, MaskIoUHead
from .mask_scoring_roi_head import MaskScoringRoIHead
from .roi_extractors import RoIAlign, RoIPool, SingleRoIExtractor
from .shared_heads import ResLayerSharedHead
from .standard_roi_head import StandardRoIHead

__all__ = [
    "BaseRoIHead", "BBoxHead", "CascadeRoIHead", "ConvFCBBoxHead", "FCNMaskHead", "RoIAlign",
    "RoIPool", "Shared2FCBBoxHead", "Shared4Conv1FCBBoxHead", "SingleRoIExtractor",
    "StandardRoIHead", "FusedSemanticHead", "HTCMaskHead", "HybridTaskCascadeRoIHead",
    "MaskIoUHead", "MaskScoringRoIHead", "ResLayerSharedHead",
]
