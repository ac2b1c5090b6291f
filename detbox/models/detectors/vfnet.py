"""VarifocalNet (Zhang et al., 2021): IoU-aware dense detection with star-shaped refinement."""

from ...registry import MODELS
from .single_stage import SingleStageDetector


@MODELS.register_module()
class VFNet(SingleStageDetector):
    """VFNet; the head (``VFNetHead``) holds what is particular to it."""
