"""Test-time box inference of dense detection heads: one view or merged over augmentations.

``aug_test_bboxes`` runs the head on every augmented view without NMS, maps each view's boxes
back to the original image (undoing flip and resize), concatenates boxes, scores and labels of
all views and runs one class-wise NMS (MMDetection v2's ``BBoxTestMixin`` of dense heads).
"""

from __future__ import annotations

import inspect

import torch
from torch import Tensor

from ...ops import batched_nms, bbox_mapping_back


class BBoxTestMixin:
    """``simple_test_bboxes``, ``aug_test_bboxes`` and ``aug_test`` for dense heads."""

    def simple_test_bboxes(self, feats: tuple[Tensor, ...], img_metas: list[dict],
                           rescale: bool = False) -> list[tuple[Tensor, Tensor]]:
        """Per image ``(dets: Tensor[n, 5], labels: Tensor[n])`` of one view."""
        outs = self.forward(feats)
        return self.get_bboxes(*outs, img_metas=img_metas, rescale=rescale)

    def aug_test(self, feats: list[tuple[Tensor, ...]], img_metas: list[list[dict]],
                 rescale: bool = False) -> list[tuple[Tensor, Tensor]]:
        """Detections merged over augmentations (see :meth:`aug_test_bboxes`)."""
        return self.aug_test_bboxes(feats, img_metas, rescale=rescale)

    def aug_test_bboxes(self, feats: list[tuple[Tensor, ...]], img_metas: list[list[dict]],
                        rescale: bool = False) -> list[tuple[Tensor, Tensor]]:
        """Detections of one image merged over its augmented views.

        Args:
            feats: per view, the multi-level features of a batch of one image.
            img_metas: per view, a list with that image's meta.
            rescale: return boxes in original-image pixels; else in the first view's scale.

        Returns:
            A list with one ``(dets: Tensor[n, 5], labels: Tensor[n])``.
        """
        for func in (self.get_bboxes, self._get_bboxes_single):
            if "with_nms" not in inspect.signature(func).parameters:
                raise AssertionError(f"{type(self).__name__} does not support test-time "
                                     "augmentation")
        aug_bboxes, aug_scores, aug_labels = [], [], []
        for x, metas in zip(feats, img_metas):
            outputs = self.get_bboxes(*self.forward(x), img_metas=metas, cfg=self.test_cfg,
                                      rescale=False, with_nms=False)[0]
            aug_bboxes.append(outputs[0])
            aug_scores.append(outputs[1])
            if len(outputs) >= 3:
                aug_labels.append(outputs[2])
        bboxes, scores = self.merge_aug_bboxes(aug_bboxes, aug_scores, img_metas)
        labels = torch.cat(aug_labels, dim=0) if aug_labels else None
        if bboxes.numel() == 0:
            return [(torch.cat([bboxes, scores[:, None]], -1), labels)]
        cfg = self.test_cfg
        dets, keep = batched_nms(bboxes, scores, labels, cfg["nms"])
        dets = dets[:cfg["max_per_img"]]
        labels = labels[keep][:cfg["max_per_img"]]
        if not rescale:
            dets = dets.clone()
            dets[:, :4] *= dets.new_tensor(img_metas[0][0]["scale_factor"])
        return [(dets, labels)]

    def merge_aug_bboxes(self, aug_bboxes: list[Tensor], aug_scores: list[Tensor] | None,
                         img_metas: list[list[dict]]) -> Tensor | tuple[Tensor, Tensor]:
        """Boxes of every view mapped back to the original image and concatenated.

        Args:
            aug_bboxes: per view ``Tensor[n_i, 4]`` in that view's pixels.
            aug_scores: per view ``Tensor[n_i]`` (or ``None``).
            img_metas: per view, a list whose first meta describes the view.
        """
        recovered = []
        for bboxes, metas in zip(aug_bboxes, img_metas):
            meta = metas[0]
            recovered.append(bbox_mapping_back(bboxes, meta["img_shape"], meta["scale_factor"],
                                               meta["flip"], meta["flip_direction"]))
        bboxes = torch.cat(recovered, dim=0)
        if aug_scores is None:
            return bboxes
        return bboxes, torch.cat(aug_scores, dim=0)
