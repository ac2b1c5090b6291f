"""FoveaBox (Kong et al., 2020): a single-stage detector with the anchor-free FoveaHead."""

from ...registry import MODELS
from .single_stage import SingleStageDetector


@MODELS.register_module()
class FOVEA(SingleStageDetector):
    """FoveaBox; the head (``bbox_head``) holds what is particular to it."""
