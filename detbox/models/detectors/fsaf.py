"""FSAF (Zhu et al., 2019): RetinaNet's backbone and neck with the anchor-free FSAF head."""

from ...registry import MODELS
from .single_stage import SingleStageDetector


@MODELS.register_module()
class FSAF(SingleStageDetector):
    """FSAF; the head (``bbox_head``) holds what is particular to it."""
