"""Assigners: which prior (anchor, point) learns which ground-truth box."""

from .approx_max_iou_assigner import ApproxMaxIoUAssigner
from .ascend_max_iou_assigner import AscendMaxIoUAssigner
from .assign_result import AssignResult
from .atss_assigner import ATSSAssigner
from .base_assigner import BaseAssigner
from .center_region_assigner import CenterRegionAssigner
from .gaussian_mixture import GaussianMixture1D
from .grid_assigner import GridAssigner
from .hungarian_assigner import HungarianAssigner
from .iou_calculators import BboxOverlaps2D
from .max_iou_assigner import MaxIoUAssigner
from .point_assigner import PointAssigner
from .sim_ota_assigner import SimOTAAssigner
from .task_aligned_assigner import TaskAlignedAssigner
from .uniform_assigner import UniformAssigner

__all__ = [
    "ApproxMaxIoUAssigner", "AscendMaxIoUAssigner", "AssignResult", "ATSSAssigner",
    "BaseAssigner", "CenterRegionAssigner", "GaussianMixture1D", "GridAssigner",
    "HungarianAssigner", "BboxOverlaps2D", "MaxIoUAssigner", "PointAssigner", "SimOTAAssigner",
    "TaskAlignedAssigner", "UniformAssigner",
]
