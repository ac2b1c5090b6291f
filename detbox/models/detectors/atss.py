"""ATSS (Zhang et al., 2020): a single-stage detector with adaptive training sample selection."""

from ...registry import MODELS
from .single_stage import SingleStageDetector


@MODELS.register_module()
class ATSS(SingleStageDetector):
    """ATSS (Zhang et al., 2020); the head (``bbox_head``) holds what is particular to it."""
