"""RoI feature extractors and the RoI layers they use."""

from .roi_layers import RoIAlign, RoIPool
from .single_level_roi_extractor import SingleRoIExtractor

__all__ = ["RoIAlign", "RoIPool", "SingleRoIExtractor"]
