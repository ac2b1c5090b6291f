"""Test-time box inference of RoI heads: one view (``simple_test_bboxes``) or several."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ...ops import bbox2roi, bbox_mapping, bbox_mapping_back, multiclass_nms


def merge_aug_bboxes(aug_bboxes: list[Tensor], aug_scores: list[Tensor] | None,
                     img_metas: list[list[dict]], rcnn_test_cfg: Any = None) -> Any:
    """Average boxes (mapped back to the original image) and scores over augmentations."""
    recovered = []
    for bboxes, metas in zip(aug_bboxes, img_metas):
        meta = metas[0]
        recovered.append(bbox_mapping_back(bboxes, meta["img_shape"], meta["scale_factor"],
                                           meta["flip"], meta["flip_direction"]))
    bboxes = torch.stack(recovered).mean(dim=0)
    if aug_scores is None:
        return bboxes
    return bboxes, torch.stack(aug_scores).mean(dim=0)


class BBoxTestMixin:
    """``simple_test_bboxes`` and ``aug_test_bboxes`` for single-stage-box RoI heads."""

    def simple_test_bboxes(self, x: tuple[Tensor, ...], img_metas: list[dict],
                           proposals: list[Tensor], rcnn_test_cfg: Any, rescale: bool = False
                           ) -> tuple[list[Tensor], list[Tensor]]:
        """Detections ``(dets[n, 5], labels[n])`` of each image from its proposals."""
        rois = bbox2roi(proposals)
        if rois.shape[0] == 0:
            det_bbox = rois.new_zeros(0, 5)
            det_label = rois.new_zeros((0,), dtype=torch.long)
            if rcnn_test_cfg is None:
                det_bbox = det_bbox[:, :4]
                det_label = rois.new_zeros((0, self.bbox_head.fc_cls.out_features))
            return [det_bbox] * len(proposals), [det_label] * len(proposals)
        results = self._bbox_forward(x, rois)
        per_img = tuple(len(p) for p in proposals)
        rois_split = rois.split(per_img, 0)
        cls_scores = results["cls_score"].split(per_img, 0)
        bbox_preds = (results["bbox_pred"].split(per_img, 0) if results["bbox_pred"] is not None
                      else (None,) * len(proposals))
        det_bboxes, det_labels = [], []
        for i, meta in enumerate(img_metas):
            if rois_split[i].shape[0] == 0:
                det_bbox = rois.new_zeros(0, 5)
                det_label = rois.new_zeros((0,), dtype=torch.long)
            else:
                det_bbox, det_label = self.bbox_head.get_bboxes(
                    rois_split[i], cls_scores[i], bbox_preds[i], meta["img_shape"],
                    meta["scale_factor"], rescale=rescale, cfg=rcnn_test_cfg)
            det_bboxes.append(det_bbox)
            det_labels.append(det_label)
        return det_bboxes, det_labels

    def aug_test_bboxes(self, feats: list[tuple[Tensor, ...]], img_metas: list[list[dict]],
                        proposal_list: list[Tensor], rcnn_test_cfg: Any) -> tuple[Tensor, Tensor]:
        """Detections of one image merged over augmentations (original-image pixels)."""
        aug_bboxes, aug_scores = [], []
        for x, metas in zip(feats, img_metas):
            meta = metas[0]
            proposals = bbox_mapping(proposal_list[0][:, :4], meta["img_shape"],
                                     meta["scale_factor"], meta["flip"], meta["flip_direction"])
            rois = bbox2roi([proposals])
            results = self._bbox_forward(x, rois)
            bboxes, scores = self.bbox_head.get_bboxes(
                rois, results["cls_score"], results["bbox_pred"], meta["img_shape"],
                meta["scale_factor"], rescale=False, cfg=None)
            aug_bboxes.append(bboxes)
            aug_scores.append(scores)
        merged_bboxes, merged_scores = merge_aug_bboxes(aug_bboxes, aug_scores, img_metas,
                                                        rcnn_test_cfg)
        if merged_bboxes.shape[0] == 0:
            return merged_bboxes.new_zeros(0, 5), merged_bboxes.new_zeros((0,), dtype=torch.long)
        return multiclass_nms(merged_bboxes, merged_scores, rcnn_test_cfg["score_thr"],
                              rcnn_test_cfg["nms"], rcnn_test_cfg["max_per_img"])
