"""``HybridTaskCascadeRoIHead``: Cascade Mask R-CNN with interleaved box/mask stages, mask
information flow and an optional semantic segmentation branch (Chen et al., 2019)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ...ops import bbox2result, bbox2roi, bbox_mapping, multiclass_nms
from ...registry import MODELS
from ..builder import build_model
from .cascade_roi_head import CascadeRoIHead
from .test_mixins import merge_aug_bboxes, merge_aug_masks


@MODELS.register_module()
class HybridTaskCascadeRoIHead(CascadeRoIHead):
    """HTC's RoI head.

    Args:
        num_stages / stage_loss_weights: as :class:`CascadeRoIHead`.
        semantic_roi_extractor: pools the semantic feature for each RoI.
        semantic_head: ``FusedSemanticHead`` config (``None``: no semantic branch).
        semantic_fusion: branches that add the pooled semantic feature: 'bbox', 'mask'.
        interleaved: each stage's mask branch trains on the boxes its box branch refined.
        mask_info_flow: each mask head also takes the previous heads' features
            (``HTCMaskHead``), and test logits are summed over stages.
        **kwargs: :class:`CascadeRoIHead` arguments.
    """

    def __init__(self, num_stages: int, stage_loss_weights: list[float],
                 semantic_roi_extractor: dict | None = None, semantic_head: dict | None = None,
                 semantic_fusion: tuple[str, ...] = ("bbox", "mask"), interleaved: bool = True,
                 mask_info_flow: bool = True, **kwargs: Any) -> None:
        super().__init__(num_stages, stage_loss_weights, **kwargs)
        if semantic_head is not None:
            self.semantic_roi_extractor = build_model(semantic_roi_extractor)
            self.semantic_head = build_model(semantic_head)
        self.semantic_fusion = semantic_fusion
        self.interleaved = interleaved
        self.mask_info_flow = mask_info_flow

    @property
    def with_semantic(self) -> bool:
        return getattr(self, "semantic_head", None) is not None

    def _fuse_semantic(self, feats: Tensor, rois: Tensor, semantic_feat: Tensor | None,
                       branch: str) -> Tensor:
        """``feats`` plus the RoI-pooled semantic feature (resized to ``feats``) if fused."""
        if not (self.with_semantic and branch in self.semantic_fusion):
            return feats
        sem = self.semantic_roi_extractor([semantic_feat], rois)
        if sem.shape[-2:] != feats.shape[-2:]:
            sem = F.adaptive_avg_pool2d(sem, feats.shape[-2:])
        return feats + sem

    def _bbox_forward(self, stage: int, x: tuple[Tensor, ...], rois: Tensor,
                      semantic_feat: Tensor | None = None) -> dict:
        extractor = self.bbox_roi_extractor[stage]
        bbox_feats = extractor(x[:extractor.num_inputs], rois)
        bbox_feats = self._fuse_semantic(bbox_feats, rois, semantic_feat, "bbox")
        cls_score, bbox_pred = self.bbox_head[stage](bbox_feats)
        return dict(cls_score=cls_score, bbox_pred=bbox_pred)

    def _mask_feats(self, stage: int, x: tuple[Tensor, ...], rois: Tensor,
                    semantic_feat: Tensor | None) -> Tensor:
        extractor = self.mask_roi_extractor[stage]
        feats = extractor(x[:extractor.num_inputs], rois)
        return self._fuse_semantic(feats, rois, semantic_feat, "mask")

    def _mask_forward_train(self, stage: int, x: tuple[Tensor, ...], sampling_results: list,
                            gt_masks: list, stage_cfg: Any,
                            semantic_feat: Tensor | None = None) -> dict:
        head = self.mask_head[stage]
        pos_rois = bbox2roi([res.pos_bboxes for res in sampling_results])
        mask_feats = self._mask_feats(stage, x, pos_rois, semantic_feat)
        if self.mask_info_flow:
            last_feat = None
            for i in range(stage):
                last_feat = self.mask_head[i](mask_feats, last_feat, return_logits=False)
            mask_pred = head(mask_feats, last_feat, return_feat=False)
        else:
            mask_pred = head(mask_feats, return_feat=False)
        targets = head.get_targets(sampling_results, gt_masks, stage_cfg)
        pos_labels = torch.cat([res.pos_gt_labels for res in sampling_results])
        return dict(loss_mask=head.loss(mask_pred, targets, pos_labels))

    def _sample_stage(self, stage: int, x: tuple[Tensor, ...], img_metas: list[dict],
                      proposal_list: list[Tensor], gt_bboxes: list[Tensor],
                      gt_labels: list[Tensor], gt_bboxes_ignore: list | None) -> list:
        return self.sample(x, img_metas, proposal_list, gt_bboxes, gt_labels, gt_bboxes_ignore,
                           self.bbox_assigner[stage], self.bbox_sampler[stage])

    def forward_train(self, x: tuple[Tensor, ...], img_metas: list[dict],
                      proposal_list: list[Tensor], gt_bboxes: list[Tensor],
                      gt_labels: list[Tensor], gt_bboxes_ignore: list[Tensor] | None = None,
                      gt_masks: Any = None, gt_semantic_seg: Tensor | None = None,
                      **kwargs: Any) -> dict:
        """``loss_semantic_seg`` and every stage's ``s{i}.*`` box and mask losses."""
        losses: dict = {}
        semantic_feat = None
        if self.with_semantic:
            if gt_semantic_seg is None:
                raise ValueError("HTC with a semantic head needs gt_semantic_seg; load it with "
                                 "LoadAnnotations(with_seg=True) (and seg_prefix) and collect "
                                 "'gt_semantic_seg'")
            semantic_pred, semantic_feat = self.semantic_head(x)
            losses["loss_semantic_seg"] = self.semantic_head.loss(semantic_pred, gt_semantic_seg)
        if self.with_mask and gt_masks is None:
            raise ValueError("HTC has mask heads but got no gt_masks; load them with "
                             "LoadAnnotations(with_mask=True) and collect 'gt_masks'")
        for i in range(self.num_stages):
            self.current_stage = i
            stage_cfg = self.train_cfg[i]
            weight = self.stage_loss_weights[i]
            sampling_results = self._sample_stage(i, x, img_metas, proposal_list, gt_bboxes,
                                                  gt_labels, gt_bboxes_ignore)
            rois = bbox2roi([res.bboxes for res in sampling_results])
            results = self._bbox_forward(i, x, rois, semantic_feat=semantic_feat)
            head = self.bbox_head[i]
            targets = head.get_targets(sampling_results, gt_bboxes, gt_labels, stage_cfg)
            stage_losses = dict(head.loss(results["cls_score"], results["bbox_pred"], rois,
                                          *targets))
            roi_labels = targets[0]
            pos_is_gts = [res.pos_is_gt for res in sampling_results]
            if self.with_mask:
                if self.interleaved:
                    with torch.no_grad():
                        proposal_list = head.refine_bboxes(rois, roi_labels, results["bbox_pred"],
                                                           pos_is_gts, img_metas)
                        sampling_results = self._sample_stage(i, x, img_metas, proposal_list,
                                                              gt_bboxes, gt_labels,
                                                              gt_bboxes_ignore)
                stage_losses.update(self._mask_forward_train(
                    i, x, sampling_results, gt_masks, stage_cfg, semantic_feat)["loss_mask"])
            for name, value in stage_losses.items():
                losses[f"s{i}.{name}"] = value * weight if "loss" in name else value
            if i < self.num_stages - 1 and not self.interleaved:
                with torch.no_grad():
                    proposal_list = head.refine_bboxes(rois, roi_labels, results["bbox_pred"],
                                                       pos_is_gts, img_metas)
        return losses

    def _stage_masks(self, x: tuple[Tensor, ...], mask_rois: Tensor,
                     semantic_feat: Tensor | None) -> list[Tensor]:
        """Every stage's mask logits of ``mask_rois`` (pooled once, last stage's extractor)."""
        mask_feats = self._mask_feats(-1, x, mask_rois, semantic_feat)
        preds, last_feat = [], None
        for head in self.mask_head:
            if self.mask_info_flow:
                mask_pred, last_feat = head(mask_feats, last_feat)
            else:
                mask_pred = head(mask_feats)
            preds.append(mask_pred)
        return preds

    def simple_test(self, x: tuple[Tensor, ...], proposal_list: list[Tensor],
                    img_metas: list[dict], rescale: bool = False, **kwargs: Any) -> list:
        """As :meth:`CascadeRoIHead.simple_test`, with semantic features fused in."""
        semantic_feat = self.semantic_head(x)[1] if self.with_semantic else None
        num_imgs = len(proposal_list)
        det_bboxes, det_labels, outputs = self._simple_test_bboxes(
            x, proposal_list, img_metas, rescale, semantic_feat=semantic_feat)
        if not self.with_mask:
            return outputs
        mask_classes = self.mask_head[-1].num_classes
        if det_bboxes is None or all(b.shape[0] == 0 for b in det_bboxes):
            return [(b, [[] for _ in range(mask_classes)]) for b in outputs]
        scale_factors: Any = [meta["scale_factor"] for meta in img_metas]
        if rescale and not isinstance(scale_factors[0], float):
            scale_factors = [torch.from_numpy(np.asarray(s)).to(det_bboxes[0].device)
                             for s in scale_factors]
        bboxes = [det_bboxes[i][:, :4] * scale_factors[i] if rescale else det_bboxes[i]
                  for i in range(num_imgs)]
        per_img_dets = tuple(len(b) for b in bboxes)
        aug_masks = [[m.sigmoid().cpu().numpy() for m in pred.split(per_img_dets, 0)]
                     for pred in self._stage_masks(x, bbox2roi(bboxes), semantic_feat)]
        segm_results = []
        for i, meta in enumerate(img_metas):
            if det_bboxes[i].shape[0] == 0:
                segm_results.append([[] for _ in range(mask_classes)])
                continue
            merged = merge_aug_masks([m[i] for m in aug_masks], [[meta]] * self.num_stages,
                                     self.test_cfg)
            segm_results.append(self.mask_head[-1].get_seg_masks(
                merged, bboxes[i], det_labels[i], self.test_cfg, meta["ori_shape"],
                scale_factors[i], rescale))
        return list(zip(outputs, segm_results))

    def aug_test(self, img_feats: list[tuple[Tensor, ...]], proposal_list: list[Tensor],
                 img_metas: list[list[dict]], rescale: bool = False) -> list:
        """One image's detections and masks merged over augmentations (original scale)."""
        semantic_feats = ([self.semantic_head(feat)[1] for feat in img_feats]
                          if self.with_semantic else [None] * len(img_metas))
        cfg = self.test_cfg
        aug_bboxes, aug_scores = [], []
        for x, metas, semantic in zip(img_feats, img_metas, semantic_feats):
            meta = metas[0]
            proposals = bbox_mapping(proposal_list[0][:, :4], meta["img_shape"],
                                     meta["scale_factor"], meta["flip"], meta["flip_direction"])
            rois = bbox2roi([proposals])
            if rois.shape[0] == 0:
                aug_bboxes.append(rois.new_zeros(0, 4))
                aug_scores.append(rois.new_zeros(0, 1))
                continue
            ms_scores = []
            for i in range(self.num_stages):
                results = self._bbox_forward(i, x, rois, semantic_feat=semantic)
                ms_scores.append(results["cls_score"])
                if i < self.num_stages - 1:
                    # as MMDetection: argmax over all logits here, background included
                    label = results["cls_score"].argmax(dim=1)
                    rois = self.bbox_head[i].regress_by_class(rois, label, results["bbox_pred"],
                                                              meta)
            cls_score = sum(ms_scores) / float(len(ms_scores))
            bboxes, scores = self.bbox_head[-1].get_bboxes(
                rois, cls_score, results["bbox_pred"], meta["img_shape"], meta["scale_factor"],
                rescale=False, cfg=None)
            aug_bboxes.append(bboxes)
            aug_scores.append(scores)
        merged_bboxes, merged_scores = merge_aug_bboxes(aug_bboxes, aug_scores, img_metas, cfg)
        det_bboxes, det_labels = multiclass_nms(merged_bboxes, merged_scores, cfg["score_thr"],
                                                cfg["nms"], cfg["max_per_img"])
        bbox_result = bbox2result(det_bboxes, det_labels, self.bbox_head[-1].num_classes)
        if not self.with_mask:
            return [bbox_result]
        if det_bboxes.shape[0] == 0:
            return [(bbox_result, [[] for _ in range(self.mask_head[-1].num_classes)])]
        aug_masks, aug_metas = [], []
        for x, metas, semantic in zip(img_feats, img_metas, semantic_feats):
            meta = metas[0]
            bboxes = bbox_mapping(det_bboxes[:, :4], meta["img_shape"], meta["scale_factor"],
                                  meta["flip"], meta["flip_direction"])
            for pred in self._stage_masks(x, bbox2roi([bboxes]), semantic):
                aug_masks.append(pred.sigmoid().cpu().numpy())
                aug_metas.append(metas)
        merged = merge_aug_masks(aug_masks, aug_metas, cfg)
        segm = self.mask_head[-1].get_seg_masks(merged, det_bboxes, det_labels, cfg,
                                                img_metas[0][0]["ori_shape"], scale_factor=1.0,
                                                rescale=False)
        return [(bbox_result, segm)]
