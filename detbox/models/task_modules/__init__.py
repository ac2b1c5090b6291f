"""Small pure callables that heads use: anchor generators, box coders, assigners, samplers."""

from .anchor_generator import AnchorGenerator
from .assign_result import AssignResult
from .atss_assigner import ATSSAssigner
from .base_assigner import BaseAssigner
from .base_bbox_coder import BaseBBoxCoder
from .base_sampler import BaseSampler
from .delta_xywh_bbox_coder import (
    DeltaXYWHBBoxCoder,
    batched_delta2bbox,
    bbox2delta,
    delta2bbox,
)
from .distance_point_bbox_coder import DistancePointBBoxCoder
from .iou_calculators import BboxOverlaps2D
from .max_iou_assigner import MaxIoUAssigner
from .point_generator import MlvlPointGenerator
from .pseudo_sampler import PseudoSampler
from .random_sampler import RandomSampler
from .sampling_result import SamplingResult

__all__ = [
    "AnchorGenerator", "AssignResult", "ATSSAssigner", "BaseAssigner", "BaseBBoxCoder",
    "BaseSampler", "BboxOverlaps2D", "DeltaXYWHBBoxCoder", "DistancePointBBoxCoder",
    "MaxIoUAssigner", "MlvlPointGenerator", "PseudoSampler", "RandomSampler", "SamplingResult",
    "bbox2delta", "delta2bbox", "batched_delta2bbox",
]
