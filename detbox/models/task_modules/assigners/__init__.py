"""Assigners: which prior (anchor, point) learns which ground-truth box."""

from .assign_result import AssignResult
from .atss_assigner import ATSSAssigner
from .base_assigner import BaseAssigner
from .hungarian_assigner import HungarianAssigner
from .iou_calculators import BboxOverlaps2D
from .max_iou_assigner import MaxIoUAssigner

__all__ = ["AssignResult", "ATSSAssigner", "BaseAssigner", "BboxOverlaps2D", "HungarianAssigner",
           "MaxIoUAssigner"]
