"""PAA (Kim and Lee, 2020): ATSS-like head with probabilistic anchor assignment."""

from ...registry import MODELS
from .single_stage import SingleStageDetector


@MODELS.register_module()
class PAA(SingleStageDetector):
    """PAA; the head (``bbox_head``) holds what is particular to it."""
