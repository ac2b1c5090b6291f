"""NAS-FCOS (Wang et al., 2020): FCOS with a searched neck and head."""

from ...registry import MODELS
from .single_stage import SingleStageDetector


@MODELS.register_module()
class NASFCOS(SingleStageDetector):
    """NAS-FCOS; the neck and head hold what is particular to it."""
