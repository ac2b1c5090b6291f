"""RoI feature extractors and the RoI layers they use."""

from .deform_roi_pool import DeformRoIPool, DeformRoIPoolPack, ModulatedDeformRoIPoolPack
from .roi_layers import RoIAlign, RoIPool
from .single_level_roi_extractor import SingleRoIExtractor

__all__ = ["DeformRoIPool", "DeformRoIPoolPack", "ModulatedDeformRoIPoolPack", "RoIAlign",
           "RoIPool", "SingleRoIExtractor"]
