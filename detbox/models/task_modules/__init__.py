"""Small pure callables that heads use, grouped by kind: prior generators, box coders,
assigners, samplers."""

from .assigners import (
    AssignResult,
    ATSSAssigner,
    BaseAssigner,
    BboxOverlaps2D,
    HungarianAssigner,
    MaxIoUAssigner,
)
from .coders import (
    BaseBBoxCoder,
    DeltaXYWHBBoxCoder,
    DistancePointBBoxCoder,
    batched_delta2bbox,
    bbox2delta,
    delta2bbox,
)
from .match_costs import BBoxL1Cost, ClassificationCost, FocalLossCost, IoUCost
from .prior_generators import AnchorGenerator, MlvlPointGenerator
from .samplers import BaseSampler, PseudoSampler, RandomSampler, SamplingResult

__all__ = [
    "AnchorGenerator", "AssignResult", "ATSSAssigner", "BaseAssigner", "BaseBBoxCoder",
    "BaseSampler", "BboxOverlaps2D", "DeltaXYWHBBoxCoder", "DistancePointBBoxCoder",
    "MaxIoUAssigner", "MlvlPointGenerator", "HungarianAssigner", "BBoxL1Cost",
    "ClassificationCost", "FocalLossCost", "IoUCost", "PseudoSampler", "RandomSampler",
    "SamplingResult",
    "bbox2delta", "delta2bbox", "batched_delta2bbox",
]
