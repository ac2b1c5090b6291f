"""RoI heads: box heads on pooled region features."""

from .base_roi_head import BaseRoIHead
from .bbox_heads import (
    BBoxHead,
    ConvFCBBoxHead,
    DIIHead,
    Shared2FCBBoxHead,
    Shared4Conv1FCBBoxHead,
)
from .cascade_roi_head import CascadeRoIHead
from .roi_extractors import RoIAlign, RoIPool, SingleRoIExtractor
from .sparse_roi_head import SparseRoIHead
from .standard_roi_head import StandardRoIHead

__all__ = [
    "BaseRoIHead", "BBoxHead", "CascadeRoIHead", "ConvFCBBoxHead", "RoIAlign", "RoIPool",
    "Shared2FCBBoxHead", "Shared4Conv1FCBBoxHead", "SingleRoIExtractor", "StandardRoIHead",
    "DIIHead", "SparseRoIHead",
]
