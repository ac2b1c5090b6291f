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
from .yolo_bbox_coder import YOLOBBoxCoder, yolo_decode, yolo_encode

__all__ = [
    "BaseBBoxCoder", "DeltaXYWHBBoxCoder", "batched_delta2bbox", "bbox2delta", "delta2bbox",
    "DistancePointBBoxCoder", "TBLRBBoxCoder", "YOLOBBoxCoder", "yolo_decode", "yolo_encode",
]
