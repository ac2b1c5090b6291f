"""Faster R-CNN (Ren et al., 2015) and Cascade R-CNN (Cai & Vasconcelos, 2018)."""

from ...registry import MODELS
from .two_stage import TwoStageDetector


@MODELS.register_module()
class FasterRCNN(TwoStageDetector):
    """Faster R-CNN: a two-stage detector with an RPN and a standard RoI head."""


@MODELS.register_module()
class CascadeRCNN(TwoStageDetector):
    """Cascade R-CNN: a two-stage detector whose RoI head refines boxes in stages."""
