"""DDOD (Chen et al., 2022): a single-stage detector with disentangled assignments."""

from ...registry import MODELS
from .single_stage import SingleStageDetector


@MODELS.register_module()
class DDOD(SingleStageDetector):
    """DDOD; the head (``bbox_head``) holds what is particular to it."""
