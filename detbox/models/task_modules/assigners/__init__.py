"""Assigners: which prior (anchor, point) learns which ground-truth box."""

from .assign_result import AssignResult
from .atss_assigner import ATSSAssigner
from .base_assigner import BaseAssigner
from .iou_calculators import BboxOverlaps2D
from .max_iou_assigner import MaxIoUAssigner
from .sim_ota_assigner import SimOTAAssigner

__all__ = ["AssignResult", "ATSSAssigner", "BaseAssigner", "BboxOverlaps2D", "MaxIoUAssigner",
           "SimOTAAssigner"]
