"""Assigners: which prior (anchor, point) learns which ground-truth box."""

from .assign_result import AssignResult
from .atss_assigner import ATSSAssigner
from .base_assigner import BaseAssigner
from .grid_assigner import GridAssigner
from .hungarian_assigner import HungarianAssigner
from .iou_calculators import BboxOverlaps2D
from .max_iou_assigner import MaxIoUAssigner
from .sim_ota_assigner import SimOTAAssigner
from .task_aligned_assigner import TaskAlignedAssigner

__all__ = [
    "AssignResult", "ATSSAssigner", "BaseAssigner", "HungarianAssigner", "BboxOverlaps2D",
    "MaxIoUAssigner", "TaskAlignedAssigner", "SimOTAAssigner",
    "GridAssigner",
]
