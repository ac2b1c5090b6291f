"""CenterNet (Zhou et al., 2019): objects as points, a single-stage detector.

Test-time augmentation comes in (image, flipped image) pairs run as one batch: the flipped
heatmap and sizes are flipped back and averaged with the plain ones (the offsets are the plain
image's), decoded without NMS; the pairs' boxes are concatenated and, if the head's
``test_cfg`` has ``nms_cfg``, merged by its NMS (MMDetection's rules).
"""

from __future__ import annotations

import torch
from torch import Tensor

from ...ops import bbox2result
from ...registry import MODELS
from .single_stage import SingleStageDetector

__all__ = ["CenterNet"]


def _flip(t: Tensor, direction: str) -> Tensor:
    """``Tensor[N, C, H, W]`` flipped ``horizontal``, ``vertical`` or ``diagonal``."""
    dims = {"horizontal": [3], "vertical": [2], "diagonal": [2, 3]}
    if direction not in dims:
        raise ValueError(f"unknown flip direction {direction!r}")
    return torch.flip(t, dims[direction])


@MODELS.register_module()
class CenterNet(SingleStageDetector):
    """CenterNet; same arguments as :class:`SingleStageDetector`."""

    def merge_aug_results(self, aug_results: list, with_nms: bool) -> tuple[Tensor, Tensor]:
        """Concatenate the pairs' ``(dets, labels)``; NMS them with ``with_nms``."""
        bboxes = torch.cat([r[0][0] for r in aug_results], dim=0).contiguous()
        labels = torch.cat([r[0][1] for r in aug_results]).contiguous()
        if with_nms:
            return self.bbox_head._bboxes_nms(bboxes, labels, self.bbox_head.test_cfg)
        return bboxes, labels

    def aug_test(self, imgs: list[Tensor], img_metas: list[list[dict]],
                 rescale: bool = True) -> list:
        """Detections of one image over flipped pairs of augmentations."""
        if not img_metas[0][0]["flip"] + img_metas[1][0]["flip"]:
            raise AssertionError("aug test must have flipped image pair")
        aug_results = []
        for ind in range(0, len(imgs) - 1, 2):
            flip_ind = ind + 1
            direction = img_metas[flip_ind][0]["flip_direction"]
            heats, whs, offsets = self.bbox_head(
                self.extract_feat(torch.cat([imgs[ind], imgs[flip_ind]])))
            if not len(heats) == len(whs) == len(offsets) == 1:
                raise AssertionError("CenterNetHead works on a single feature map")
            heats[0] = (heats[0][0:1] + _flip(heats[0][1:2], direction)) / 2
            whs[0] = (whs[0][0:1] + _flip(whs[0][1:2], direction)) / 2
            aug_results.append(self.bbox_head.get_bboxes(
                heats, whs, [offsets[0][0:1]], img_metas[ind], rescale=rescale,
                with_nms=False))
        with_nms = self.bbox_head.test_cfg.get("nms_cfg", None) is not None
        bboxes, labels = self.merge_aug_results(aug_results, with_nms)
        return [bbox2result(bboxes, labels, self.bbox_head.num_classes)]
