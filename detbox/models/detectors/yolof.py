"""YOLOF (Chen et al., 2021): one C5 level, a dilated-encoder neck and the YOLOF head."""

from ...registry import MODELS
from .single_stage import SingleStageDetector


@MODELS.register_module()
class YOLOF(SingleStageDetector):
    """YOLOF; the head (``bbox_head``) holds what is particular to it."""
