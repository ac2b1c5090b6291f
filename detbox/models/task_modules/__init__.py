"""Small pure callables that heads use: anchor generators, box coders, assigners, samplers."""

from .anchor_generator import AnchorGenerator
from .assign_result import AssignResult
from .base_assigner import BaseAssigner
from .base_bbox_coder import BaseBBoxCoder
from .base_sampler import BaseSampler
from .delta_xywh_bbox_coder import (
    DeltaXYWHBBoxCoder,
    batched_delta2bbox,
    bbox2delta,
    delta2bbox,
)
from .iou_calculators import BboxOverlaps2D
from .max_iou_assigner import MaxIoUAssigner
from .pseudo_sampler import PseudoSampler
from .random_sampler import RandomSampler
from .sampling_result import SamplingResult

__all__ = [
    "AnchorGenerator", "AssignResult", "BaseAssigner", "BaseBBoxCoder", "BaseSampler",
    "BboxOverlaps2D", "DeltaXYWHBBoxCoder", "MaxIoUAssigner", "PseudoSampler", "RandomSampler",
    "SamplingResult", "bbox2delta", "delta2bbox", "batched_delta2bbox",
]
