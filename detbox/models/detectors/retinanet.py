"""RetinaNet (Lin et al., 2017): a single-stage detector with focal loss on dense anchors."""

from ...registry import MODELS
from .single_stage import SingleStageDetector


@MODELS.register_module()
class RetinaNet(SingleStageDetector):
    """RetinaNet (Lin et al., 2017); the head (``bbox_head``) holds what is particular to it."""
