"""RepPoints (Yang et al., 2019): point sets instead of anchors, in a single-stage detector."""

from ...registry import MODELS
from .single_stage import SingleStageDetector


@MODELS.register_module()
class RepPointsDetector(SingleStageDetector):
    """RepPointsDetector; the head (``bbox_head``) holds what is particular to it."""
