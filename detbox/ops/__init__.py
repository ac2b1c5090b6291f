"""Box operations and NMS on top of torchvision.ops (MMDetection v2 / mmcv 1.x semantics)."""

from .batched_nms import batched_nms, multiclass_nms
from .bbox_overlaps import bbox_overlaps
from .bbox_transforms import (
    bbox2distance,
    bbox2result,
    bbox2roi,
    bbox_cxcywh_to_xyxy,
    bbox_flip,
    bbox_mapping,
    bbox_mapping_back,
    bbox_rescale,
    bbox_xyxy_to_cxcywh,
    clamp_bboxes,
    distance2bbox,
    find_inside_bboxes,
    roi2bbox,
)
from .nms import nms
from .soft_nms import soft_nms

__all__ = [
    "bbox_overlaps", "nms", "soft_nms", "batched_nms", "multiclass_nms", "bbox2roi", "roi2bbox",
    "bbox2result", "bbox_flip", "bbox_mapping", "bbox_mapping_back", "distance2bbox",
    "bbox2distance", "bbox_cxcywh_to_xyxy", "bbox_xyxy_to_cxcywh", "bbox_rescale",
    "find_inside_bboxes", "clamp_bboxes",
]
