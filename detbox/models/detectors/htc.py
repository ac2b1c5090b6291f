"""Hybrid Task Cascade (Chen et al., 2019) and Mask Scoring R-CNN (Huang et al., 2019)."""

from ...registry import MODELS
from .faster_rcnn import CascadeRCNN
from .two_stage import TwoStageDetector


@MODELS.register_module()
class HybridTaskCascade(CascadeRCNN):
    """HTC: a cascade whose RoI head interleaves box and mask stages (semantic branch
    optional; ``gt_semantic_seg`` goes to the RoI head)."""

    @property
    def with_semantic(self) -> bool:
        return self.roi_head.with_semantic


@MODELS.register_module()
class MaskScoringRCNN(TwoStageDetector):
    """Mask Scoring R-CNN: Mask R-CNN whose mask scores are predicted mask IoUs."""
