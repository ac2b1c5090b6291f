"""``StandardRoIHead``: assign and sample proposals, pool their features, classify and regress."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ...ops import bbox2result, bbox2roi
from ...registry import MODELS, TASK_UTILS
from ..builder import build_model
from .base_roi_head import BaseRoIHead
from .test_mixins import BBoxTestMixin, MaskTestMixin


@MODELS.register_module()
class StandardRoIHead(BBoxTestMixin, MaskTestMixin, BaseRoIHead):
    """The RoI head of Faster and Mask R-CNN: one box stage and an optional mask branch.

    With a ``mask_head``, the positive sampled RoIs of training get mask targets and loss
    ``loss_mask``; at test time the detections are pooled again (``mask_roi_extractor``, or
    the box extractor when it is ``None``: ``share_roi_extractor``) and their masks pasted
    into the image. Results are then ``(bbox_results, segm_results)`` per image.
    """

    def init_assigner_sampler(self) -> None:
        self.bbox_assigner = None
        self.bbox_sampler = None
        if self.train_cfg:
            self.bbox_assigner = TASK_UTILS.build(self.train_cfg["assigner"])
            self.bbox_sampler = TASK_UTILS.build(self.train_cfg["sampler"])

    def init_bbox_head(self, bbox_roi_extractor: dict, bbox_head: dict) -> None:
        self.bbox_roi_extractor = build_model(bbox_roi_extractor)
        self.bbox_head = build_model(bbox_head)

    def init_mask_head(self, mask_roi_extractor: dict | None, mask_head: dict) -> None:
        if mask_roi_extractor is not None:
            self.mask_roi_extractor = build_model(mask_roi_extractor)
            self.share_roi_extractor = False
        else:
            self.share_roi_extractor = True
            self.mask_roi_extractor = self.bbox_roi_extractor
        self.mask_head = build_model(mask_head)

    def sample(self, x: tuple[Tensor, ...], img_metas: list[dict], proposal_list: list[Tensor],
               gt_bboxes: list[Tensor], gt_labels: list[Tensor],
               gt_bboxes_ignore: list[Tensor] | None, assigner: Any, sampler: Any) -> list:
        """Assign each image's proposals to ground truths and sample them."""
        if gt_bboxes_ignore is None:
            gt_bboxes_ignore = [None] * len(img_metas)
        results = []
        for i in range(len(img_metas)):
            assign_result = assigner.assign(proposal_list[i], gt_bboxes[i], gt_bboxes_ignore[i],
                                            gt_labels[i])
            results.append(sampler.sample(assign_result, proposal_list[i], gt_bboxes[i],
                                          gt_labels[i], feats=[f[i][None] for f in x]))
        return results

    def forward_train(self, x: tuple[Tensor, ...], img_metas: list[dict],
                      proposal_list: list[Tensor], gt_bboxes: list[Tensor],
                      gt_labels: list[Tensor], gt_bboxes_ignore: list[Tensor] | None = None,
                      gt_masks: Any = None, **kwargs: Any) -> dict:
        """``dict(loss_cls, acc, loss_bbox)`` (and ``loss_mask``) for one batch."""
        sampling_results = self.sample(x, img_metas, proposal_list, gt_bboxes, gt_labels,
                                       gt_bboxes_ignore, self.bbox_assigner, self.bbox_sampler)
        losses: dict = {}
        bbox_feats = None
        if self.with_bbox:
            bbox_results = self._bbox_forward_train(x, sampling_results, gt_bboxes, gt_labels,
                                                    img_metas)
            losses.update(bbox_results["loss_bbox"])
            bbox_feats = bbox_results["bbox_feats"]
        if self.with_mask:
            if gt_masks is None:
                raise ValueError(f"{type(self).__name__} has a mask head but got no gt_masks; "
                                 f"load them with LoadAnnotations(with_mask=True) and collect "
                                 f"'gt_masks'")
            mask_results = self._mask_forward_train(x, sampling_results, bbox_feats, gt_masks,
                                                    img_metas)
            losses.update(mask_results["loss_mask"])
        return losses

    def _bbox_forward(self, x: tuple[Tensor, ...], rois: Tensor) -> dict:
        """``rois: Tensor[K, 5]`` -> ``dict(cls_score, bbox_pred, bbox_feats)``."""
        bbox_feats = self.bbox_roi_extractor(x[:self.bbox_roi_extractor.num_inputs], rois)
        if self.with_shared_head:
            bbox_feats = self.shared_head(bbox_feats)
        cls_score, bbox_pred = self.bbox_head(bbox_feats)
        return dict(cls_score=cls_score, bbox_pred=bbox_pred, bbox_feats=bbox_feats)

    def _bbox_forward_train(self, x: tuple[Tensor, ...], sampling_results: list,
                            gt_bboxes: list[Tensor], gt_labels: list[Tensor],
                            img_metas: list[dict]) -> dict:
        rois = bbox2roi([res.bboxes for res in sampling_results])
        results = self._bbox_forward(x, rois)
        targets = self.bbox_head.get_targets(sampling_results, gt_bboxes, gt_labels,
                                             self.train_cfg)
        loss = self.bbox_head.loss(results["cls_score"], results["bbox_pred"], rois, *targets)
        results.update(loss_bbox=loss)
        return results

    def _mask_forward_train(self, x: tuple[Tensor, ...], sampling_results: list,
                            bbox_feats: Tensor | None, gt_masks: list,
                            img_metas: list[dict]) -> dict:
        """Mask logits of the positive RoIs, their targets and ``loss_mask``."""
        if not self.share_roi_extractor:
            pos_rois = bbox2roi([res.pos_bboxes for res in sampling_results])
            mask_results = self._mask_forward(x, pos_rois)
        else:
            # the box branch's pooled features of the positives (positives come first)
            pos_inds = torch.cat([
                torch.cat([torch.ones(res.pos_bboxes.shape[0], dtype=torch.uint8),
                           torch.zeros(res.neg_bboxes.shape[0], dtype=torch.uint8)])
                for res in sampling_results]).to(bbox_feats.device)
            mask_results = self._mask_forward(x, pos_inds=pos_inds, bbox_feats=bbox_feats)
        mask_targets = self.mask_head.get_targets(sampling_results, gt_masks, self.train_cfg)
        pos_labels = torch.cat([res.pos_gt_labels for res in sampling_results])
        loss_mask = self.mask_head.loss(mask_results["mask_pred"], mask_targets, pos_labels)
        mask_results.update(loss_mask=loss_mask, mask_targets=mask_targets)
        return mask_results

    def _mask_forward(self, x: tuple[Tensor, ...], rois: Tensor | None = None,
                      pos_inds: Tensor | None = None, bbox_feats: Tensor | None = None) -> dict:
        """``dict(mask_pred, mask_feats)`` from ``rois: Tensor[K, 5]``, or from the box
        branch's ``bbox_feats`` at ``pos_inds`` (shared extractor)."""
        if (rois is not None) == (pos_inds is not None and bbox_feats is not None):
            raise ValueError("_mask_forward takes rois, or pos_inds with bbox_feats")
        if rois is not None:
            mask_feats = self.mask_roi_extractor(x[:self.mask_roi_extractor.num_inputs], rois)
            if self.with_shared_head:
                mask_feats = self.shared_head(mask_feats)
        else:
            mask_feats = bbox_feats[pos_inds.bool()]
        return dict(mask_pred=self.mask_head(mask_feats), mask_feats=mask_feats)

    def simple_test(self, x: tuple[Tensor, ...], proposal_list: list[Tensor],
                    img_metas: list[dict], proposals: Any = None, rescale: bool = False) -> list:
        """Per image, a list over classes of ``np.ndarray[n, 5]``; with a mask head, per
        image ``(bbox_results, segm_results)`` (segm: per class, a list of bool masks)."""
        if not self.with_bbox:
            raise RuntimeError("StandardRoIHead needs a bbox_head")
        det_bboxes, det_labels = self.simple_test_bboxes(x, img_metas, proposal_list,
                                                         self.test_cfg, rescale=rescale)
        bbox_results = [bbox2result(b, lab, self.bbox_head.num_classes)
                        for b, lab in zip(det_bboxes, det_labels)]
        if not self.with_mask:
            return bbox_results
        segm_results = self.simple_test_mask(x, img_metas, det_bboxes, det_labels,
                                             rescale=rescale)
        return list(zip(bbox_results, segm_results))

    def aug_test(self, x: list[tuple[Tensor, ...]], proposal_list: list[Tensor],
                 img_metas: list[list[dict]], rescale: bool = False) -> list:
        """One image's detections merged over augmentations."""
        det_bboxes, det_labels = self.aug_test_bboxes(x, img_metas, proposal_list, self.test_cfg)
        out_bboxes = det_bboxes
        if not rescale:
            out_bboxes = det_bboxes.clone()
            out_bboxes[:, :4] *= det_bboxes.new_tensor(img_metas[0][0]["scale_factor"])
        bbox_results = bbox2result(out_bboxes, det_labels, self.bbox_head.num_classes)
        if not self.with_mask:
            return [bbox_results]
        # masks are made from the boxes at the original scale
        return [(bbox_results, self.aug_test_mask(x, img_metas, det_bboxes, det_labels))]
