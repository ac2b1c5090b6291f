"""Test-time inference of RoI heads (boxes, masks): one view (``simple_test_*``) or several."""

from __future__ import annotations

from typing import Any

import numpy as np
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


def split_bbox_pred(bbox_head: Any, bbox_pred: Any, per_img: tuple[int, ...]) -> tuple:
    """A batch's box predictions split per image: a tensor by rows; other predictions (SABL's
    ``(bucket_cls, bucket_offsets)`` pairs) by the head's ``bbox_pred_split``; ``None``
    stays ``None`` for every image."""
    if bbox_pred is None:
        return (None,) * len(per_img)
    if isinstance(bbox_pred, Tensor):
        return bbox_pred.split(per_img, 0)
    return bbox_head.bbox_pred_split(bbox_pred, per_img)


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
        bbox_preds = split_bbox_pred(self.bbox_head, results["bbox_pred"], per_img)
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


def merge_aug_masks(aug_masks: list[np.ndarray], img_metas: list[list[dict]],
                    rcnn_test_cfg: Any = None, weights: list[float] | None = None) -> np.ndarray:
    """Average mask probabilities ``[n, classes, h, w]`` over augmentations, unflipped."""
    recovered = []
    for mask, metas in zip(aug_masks, img_metas):
        if metas[0]["flip"]:
            direction = metas[0]["flip_direction"]
            if direction not in ("horizontal", "vertical", "diagonal"):
                raise ValueError(f"Invalid flipping direction '{direction}'")
            if direction in ("horizontal", "diagonal"):
                mask = mask[:, :, :, ::-1]
            if direction in ("vertical", "diagonal"):
                mask = mask[:, :, ::-1, :]
        recovered.append(mask)
    if weights is None:
        return np.mean(recovered, axis=0)
    return np.average(np.array(recovered), axis=0, weights=np.array(weights))


class MaskTestMixin:
    """``simple_test_mask`` and ``aug_test_mask`` of RoI heads with one mask head."""

    def simple_test_mask(self, x: tuple[Tensor, ...], img_metas: list[dict],
                         det_bboxes: list[Tensor], det_labels: list[Tensor],
                         rescale: bool = False) -> list[list[list[np.ndarray]]]:
        """Per image, a list over classes of binary masks of its detections."""
        ori_shapes = tuple(meta["ori_shape"] for meta in img_metas)
        scale_factors: Any = tuple(meta["scale_factor"] for meta in img_metas)
        num_classes = self.mask_head.num_classes
        if isinstance(scale_factors[0], float):
            scale_factors = [np.array([s] * 4, dtype=np.float32) for s in scale_factors]
        if all(b.shape[0] == 0 for b in det_bboxes):
            return [[[] for _ in range(num_classes)] for _ in det_bboxes]
        if rescale:
            scale_factors = [torch.from_numpy(np.asarray(s)).to(det_bboxes[0].device)
                             for s in scale_factors]
        # rescaled boxes go back to the test scale to pool the features
        bboxes = [det_bboxes[i][:, :4] * scale_factors[i] if rescale else det_bboxes[i][:, :4]
                  for i in range(len(det_bboxes))]
        mask_rois = bbox2roi(bboxes)
        mask_pred = self._mask_forward(x, mask_rois)["mask_pred"]
        mask_preds = mask_pred.split([len(b) for b in det_bboxes], 0)
        results = []
        for i in range(len(det_bboxes)):
            if det_bboxes[i].shape[0] == 0:
                results.append([[] for _ in range(num_classes)])
            else:
                results.append(self.mask_head.get_seg_masks(
                    mask_preds[i], bboxes[i], det_labels[i], self.test_cfg, ori_shapes[i],
                    scale_factors[i], rescale))
        return results

    def aug_test_mask(self, feats: list[tuple[Tensor, ...]], img_metas: list[list[dict]],
                      det_bboxes: Tensor, det_labels: Tensor) -> list[list[np.ndarray]]:
        """Masks of one image's merged detections (original-image pixels), averaged over
        augmentations."""
        if det_bboxes.shape[0] == 0:
            return [[] for _ in range(self.mask_head.num_classes)]
        aug_masks = []
        for x, metas in zip(feats, img_metas):
            meta = metas[0]
            bboxes = bbox_mapping(det_bboxes[:, :4], meta["img_shape"], meta["scale_factor"],
                                  meta["flip"], meta["flip_direction"])
            mask_results = self._mask_forward(x, bbox2roi([bboxes]))
            aug_masks.append(mask_results["mask_pred"].sigmoid().cpu().numpy())
        merged = merge_aug_masks(aug_masks, img_metas, self.test_cfg)
        return self.mask_head.get_seg_masks(merged, det_bboxes, det_labels, self.test_cfg,
                                            img_metas[0][0]["ori_shape"],
                                            scale_factor=det_bboxes.new_ones(4), rescale=False)
