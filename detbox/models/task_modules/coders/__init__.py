"""Box coders: boxes <-> regression targets."""

from .base_bbox_coder import BaseBBoxCoder
from .delta_xywh_bbox_coder import (
    DeltaXYWHBBoxCoder,
    batched_delta2bbox,
    bbox2delta,
    delta2bbox,
)
from .distance_point_bbox_coder import DistancePointBBoxCoder
from .tblr_bbox_coder import TBLRBBoxCoder

__all__ = ["BaseBBoxCoder", "DeltaXYWHBBoxCoder", "DistancePointBBoxCoder", "bbox2delta",
           "delta2bbox", "batched_delta2bbox", "TBLRBBoxCoder"]
