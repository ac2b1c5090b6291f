"""``SparseRCNN``: learned proposals (``EmbeddingRPNHead``) refined by a ``SparseRoIHead``."""

from __future__ import annotations

from typing import Any

from torch import Tensor

from ...registry import MODELS
from .two_stage import TwoStageDetector

__all__ = ["SparseRCNN"]


@MODELS.register_module()
class SparseRCNN(TwoStageDetector):
    """Sparse R-CNN (MMDetection 2.x arguments: those of :class:`TwoStageDetector`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.with_rpn:
            raise ValueError("Sparse R-CNN does not support external proposals: give rpn_head")

    def forward_train(self, img: Tensor, img_metas: list[dict], gt_bboxes: list[Tensor],
                      gt_labels: list[Tensor], gt_bboxes_ignore: list[Tensor] | None = None,
                      gt_masks: Any = None, proposals: Any = None, **kwargs: Any) -> dict:
        """The RoI head's losses for one batch."""
        if proposals is not None:
            raise ValueError("Sparse R-CNN does not support external proposals")
        x = self.extract_feat(img)
        proposal_boxes, proposal_features, imgs_whwh = self.rpn_head.forward_train(x, img_metas)
        return self.roi_head.forward_train(x, proposal_boxes, proposal_features, img_metas,
                                           gt_bboxes, gt_labels,
                                           gt_bboxes_ignore=gt_bboxes_ignore,
                                           gt_masks=gt_masks, imgs_whwh=imgs_whwh)

    def simple_test(self, img: Tensor, img_metas: list[dict], proposals: Any = None,
                    rescale: bool = False) -> list:
        """Per image, a list over classes of ``np.ndarray[n, 5]``."""
        x = self.extract_feat(img)
        proposal_boxes, proposal_features, imgs_whwh = self.rpn_head.simple_test_rpn(
            x, img_metas)
        return self.roi_head.simple_test(x, proposal_boxes, proposal_features, img_metas,
                                         imgs_whwh=imgs_whwh, rescale=rescale)

    def aug_test(self, imgs: list[Tensor], img_metas: list[list[dict]],
                 rescale: bool = False) -> list:
        raise NotImplementedError("Sparse R-CNN does not support test-time augmentation")

    def forward_dummy(self, img: Tensor) -> list:
        """Every stage's raw outputs for a dummy 800x1333 meta (for FLOPs counting)."""
        x = self.extract_feat(img)
        metas = [dict(img_shape=(800, 1333, 3)) for _ in range(len(img))]
        boxes, feats, _ = self.rpn_head.simple_test_rpn(x, metas)
        return self.roi_head.forward_dummy(x, boxes, feats, metas)
