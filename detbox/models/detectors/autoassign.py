"""AutoAssign (Zhu et al., 2020): FCOS-like detector with differentiable label assignment."""

from ...registry import MODELS
from .single_stage import SingleStageDetector


@MODELS.register_module()
class AutoAssign(SingleStageDetector):
    """AutoAssign; the head (``bbox_head``) holds what is particular to it."""
