"""``MaskScoringRoIHead``: Mask R-CNN's RoI head plus a mask IoU head (Huang et al., 2019)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from ...ops import bbox2roi
from ...registry import MODELS
from ..builder import build_model
from .standard_roi_head import StandardRoIHead


@MODELS.register_module()
class MaskScoringRoIHead(StandardRoIHead):
    """Mask Scoring R-CNN's RoI head: a mask's score is its predicted IoU times the box score.

    Test results are per image ``(bbox_results, (segm_results, mask_scores))``.

    Args:
        mask_iou_head: ``MaskIoUHead`` config.
        **kwargs: :class:`StandardRoIHead` arguments.
    """

    def __init__(self, mask_iou_head: dict, **kwargs: Any) -> None:
        if mask_iou_head is None:
            raise ValueError("MaskScoringRoIHead needs a mask_iou_head")
        super().__init__(**kwargs)
        self.mask_iou_head = build_model(mask_iou_head)

    def _mask_forward_train(self, x: tuple[Tensor, ...], sampling_results: list,
                            bbox_feats: Tensor | None, gt_masks: list,
                            img_metas: list[dict]) -> dict:
        """Mask losses plus ``loss_mask_iou``."""
        pos_labels = torch.cat([res.pos_gt_labels for res in sampling_results])
        results = super()._mask_forward_train(x, sampling_results, bbox_feats, gt_masks,
                                              img_metas)
        mask_pred = results["mask_pred"]
        pos_mask_pred = mask_pred[range(mask_pred.size(0)), pos_labels]
        iou_pred = self.mask_iou_head(results["mask_feats"], pos_mask_pred)
        pos_iou_pred = iou_pred[range(iou_pred.size(0)), pos_labels]
        iou_targets = self.mask_iou_head.get_targets(sampling_results, gt_masks, pos_mask_pred,
                                                     results["mask_targets"], self.train_cfg)
        results["loss_mask"].update(self.mask_iou_head.loss(pos_iou_pred, iou_targets))
        return results

    def simple_test_mask(self, x: tuple[Tensor, ...], img_metas: list[dict],
                         det_bboxes: list[Tensor], det_labels: list[Tensor],
                         rescale: bool = False) -> list:
        """Per image ``(segm_results, mask_scores)``, both per class."""
        num_classes = self.mask_head.num_classes
        num_imgs = len(det_bboxes)
        if all(b.shape[0] == 0 for b in det_bboxes):
            return [([[] for _ in range(num_classes)], [[] for _ in range(num_classes)])
                    for _ in range(num_imgs)]
        scale_factors: Any = [meta["scale_factor"] for meta in img_metas]
        if rescale and not isinstance(scale_factors[0], float):
            scale_factors = [torch.from_numpy(np.asarray(s)).to(det_bboxes[0].device)
                             for s in scale_factors]
        bboxes = [det_bboxes[i][:, :4] * scale_factors[i] if rescale else det_bboxes[i]
                  for i in range(num_imgs)]
        results = self._mask_forward(x, bbox2roi(bboxes))
        labels = torch.cat(det_labels)
        mask_pred = results["mask_pred"]
        iou_pred = self.mask_iou_head(results["mask_feats"],
                                      mask_pred[range(labels.size(0)), labels])
        per_img = tuple(len(b) for b in bboxes)
        mask_preds = mask_pred.split(per_img, 0)
        iou_preds = iou_pred.split(per_img, 0)
        out = []
        for i, meta in enumerate(img_metas):
            if det_bboxes[i].shape[0] == 0:
                out.append(([[] for _ in range(num_classes)], [[] for _ in range(num_classes)]))
                continue
            segm = self.mask_head.get_seg_masks(mask_preds[i], bboxes[i], det_labels[i],
                                                self.test_cfg, meta["ori_shape"],
                                                scale_factors[i], rescale)
            scores = self.mask_iou_head.get_mask_scores(iou_preds[i], det_bboxes[i],
                                                        det_labels[i])
            out.append((segm, scores))
        return out
