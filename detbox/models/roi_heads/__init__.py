"""RoI heads: box and mask heads on pooled region features."""

from .base_roi_head import BaseRoIHead
from .bbox_heads import (
    BBoxHead,
    ConvFCBBoxHead,
    DIIHead,
    Shared2FCBBoxHead,
    Shared4Conv1FCBBoxHead,
)
from .cascade_roi_head import CascadeRoIHead
from .htc_roi_head import HybridTaskCascadeRoIHead
from .mask_heads import FCNMaskHead, FusedSemanticHead, HTCMaskHead, MaskIoUHead
from .mask_scoring_roi_head import MaskScoringRoIHead
from .roi_extractors import RoIAlign, RoIPool, SingleRoIExtractor
from .shared_heads import ResLayerSharedHead
from .sparse_roi_head import SparseRoIHead
from .standard_roi_head import StandardRoIHead

__all__ = [
    "BaseRoIHead", "BBoxHead", "ConvFCBBoxHead", "DIIHead", "Shared2FCBBoxHead",
    "Shared4Conv1FCBBoxHead", "CascadeRoIHead", "HybridTaskCascadeRoIHead", "FCNMaskHead",
    "FusedSemanticHead", "HTCMaskHead", "MaskIoUHead", "MaskScoringRoIHead", "RoIAlign",
    "RoIPool", "ResLayerSharedHead", "SingleRoIExtractor", "SparseRoIHead", "StandardRoIHead",
]
