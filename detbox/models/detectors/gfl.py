"""GFL (Li et al., 2020): a single-stage detector trained with Generalized Focal Loss."""

from ...registry import MODELS
from .single_stage import SingleStageDetector


@MODELS.register_module()
class GFL(SingleStageDetector):
    """GFL; the head (``GFLHead``) holds what is particular to it."""
