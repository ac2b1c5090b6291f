"""Mask R-CNN (He et al., 2017): Faster R-CNN with a mask branch in its RoI head."""

from ...registry import MODELS
from .two_stage import TwoStageDetector


@MODELS.register_module()
class MaskRCNN(TwoStageDetector):
    """Mask R-CNN; test results per image are ``(bbox_results, segm_results)``."""
