"""FCOS (Tian et al., 2019): an anchor-free single-stage detector with centerness."""

from ...registry import MODELS
from .single_stage import SingleStageDetector


@MODELS.register_module()
class FCOS(SingleStageDetector):
    """FCOS (Tian et al., 2019); the head (``bbox_head``) holds what is particular to it."""
