"""Box coders: boxes <-> regression targets."""

from .base_bbox_coder import BaseBBoxCoder
from .bucketing_bbox_coder import BucketingBBoxCoder, bbox2bucket, bucket2bbox
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
    "BaseBBoxCoder", "BucketingBBoxCoder", "bbox2bucket", "bucket2bbox",
    "DeltaXYWHBBoxCoder", "batched_delta2bbox", "bbox2delta", "delta2bbox",
    "DistancePointBBoxCoder", "TBLRBBoxCoder", "YOLOBBoxCoder", "yolo_decode", "yolo_encode",
]
