"""CornerNet (Law & Deng, 2018): boxes as pairs of corners, from a single-stage detector.

Test-time augmentation comes in (image, flipped image) pairs: each pair runs as one batch,
both images' pairs are decoded without NMS, mapped back to the original image and merged by
the head's ``test_cfg['nms']`` (soft-NMS in the configs) and ``max_per_img``.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ...ops import bbox2result, bbox_mapping_back
from ...registry import MODELS
from .single_stage import SingleStageDetector

__all__ = ["CornerNet"]


@MODELS.register_module()
class CornerNet(SingleStageDetector):
    """CornerNet; same arguments as :class:`SingleStageDetector`."""

    def merge_aug_results(self, aug_results: list[tuple[Tensor, Tensor]],
                          img_metas: list[list[dict]]) -> tuple[Tensor, Tensor]:
        """Map each augmentation's ``(dets [n, 5], labels [n])`` back to the original image
        (``img_shape`` before padding, ``scale_factor``, ``flip``) and merge them with NMS."""
        recovered, aug_labels = [], []
        for (dets, labels), metas in zip(aug_results, img_metas):
            meta = metas[0]
            boxes = bbox_mapping_back(dets[:, :4], meta["img_shape"], meta["scale_factor"],
                                      meta["flip"])
            recovered.append(torch.cat([boxes, dets[:, -1:]], dim=-1))
            aug_labels.append(labels)
        bboxes, labels = torch.cat(recovered, dim=0), torch.cat(aug_labels)
        if bboxes.shape[0] > 0:
            return self.bbox_head._bboxes_nms(bboxes, labels, self.bbox_head.test_cfg)
        return bboxes, labels

    def aug_test(self, imgs: list[Tensor], img_metas: list[list[dict]],
                 rescale: bool = False) -> list:
        """Detections of one image over flipped pairs of augmentations."""
        if not img_metas[0][0]["flip"] + img_metas[1][0]["flip"]:
            raise AssertionError("aug test must have flipped image pair")
        aug_results = []
        for ind in range(0, len(imgs) - 1, 2):
            outs = self.bbox_head(self.extract_feat(torch.cat([imgs[ind], imgs[ind + 1]])))
            aug_results += self.bbox_head.get_bboxes(
                *outs, [img_metas[ind], img_metas[ind + 1]], False, False)
        bboxes, labels = self.merge_aug_results(aug_results, img_metas)
        return [bbox2result(bboxes, labels, self.bbox_head.num_classes)]
