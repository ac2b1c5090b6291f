"""``CascadeRoIHead``: box stages with rising IoU thresholds, each refining the last's boxes."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from ...ops import bbox2result, bbox2roi, bbox_mapping, multiclass_nms
from ...registry import MODELS, TASK_UTILS
from ..builder import build_model
from .standard_roi_head import StandardRoIHead
from .test_mixins import merge_aug_bboxes, merge_aug_masks, split_bbox_pred


@MODELS.register_module()
class CascadeRoIHead(StandardRoIHead):
    """Cascade R-CNN's RoI head (and Cascade Mask R-CNN's, with ``mask_head``).

    With masks, every stage has a mask head trained on its positive RoIs (losses
    ``s{i}.loss_mask``); at test time each stage's mask probabilities of the final boxes are
    averaged.

    Args:
        num_stages: number of box stages.
        stage_loss_weights: weight of each stage's losses.
        bbox_roi_extractor: one config, or one per stage.
        bbox_head: one config, or one per stage.
        mask_roi_extractor: one config, one per stage, or ``None`` (share the box ones).
        mask_head: one config, or one per stage.
        train_cfg: a list with one ``rcnn`` train config per stage.
        **kwargs: ``BaseRoIHead`` arguments.
    """

    def __init__(self, num_stages: int, stage_loss_weights: list[float],
                 bbox_roi_extractor: dict | list | None = None,
                 bbox_head: dict | list | None = None, mask_roi_extractor: Any = None,
                 mask_head: Any = None, shared_head: Any = None, train_cfg: Any = None,
                 test_cfg: Any = None, pretrained: str | None = None,
                 init_cfg: dict | list | None = None) -> None:
        if bbox_roi_extractor is None or bbox_head is None:
            raise ValueError("CascadeRoIHead needs bbox_roi_extractor and bbox_head")
        if shared_head is not None:
            raise ValueError("CascadeRoIHead does not support a shared head")
        if len(stage_loss_weights) != num_stages:
            raise ValueError(f"stage_loss_weights has {len(stage_loss_weights)} entries for "
                             f"{num_stages} stages")
        self.num_stages = num_stages
        self.stage_loss_weights = stage_loss_weights
        super().__init__(bbox_roi_extractor=bbox_roi_extractor, bbox_head=bbox_head,
                         mask_roi_extractor=mask_roi_extractor, mask_head=mask_head,
                         shared_head=shared_head, train_cfg=train_cfg, test_cfg=test_cfg,
                         pretrained=pretrained, init_cfg=init_cfg)

    def init_bbox_head(self, bbox_roi_extractor: dict | list, bbox_head: dict | list) -> None:
        if not isinstance(bbox_roi_extractor, list):
            bbox_roi_extractor = [bbox_roi_extractor] * self.num_stages
        if not isinstance(bbox_head, list):
            bbox_head = [bbox_head] * self.num_stages
        if not len(bbox_roi_extractor) == len(bbox_head) == self.num_stages:
            raise ValueError(f"need {self.num_stages} bbox heads and extractors, got "
                             f"{len(bbox_head)} and {len(bbox_roi_extractor)}")
        self.bbox_roi_extractor = nn.ModuleList(build_model(c) for c in bbox_roi_extractor)
        self.bbox_head = nn.ModuleList(build_model(c) for c in bbox_head)

    def init_mask_head(self, mask_roi_extractor: dict | list | None,
                       mask_head: dict | list) -> None:
        if not isinstance(mask_head, list):
            mask_head = [mask_head] * self.num_stages
        if len(mask_head) != self.num_stages:
            raise ValueError(f"need {self.num_stages} mask heads, got {len(mask_head)}")
        self.mask_head = nn.ModuleList(build_model(c) for c in mask_head)
        if mask_roi_extractor is not None:
            if not isinstance(mask_roi_extractor, list):
                mask_roi_extractor = [mask_roi_extractor] * self.num_stages
            if len(mask_roi_extractor) != self.num_stages:
                raise ValueError(f"need {self.num_stages} mask RoI extractors, got "
                                 f"{len(mask_roi_extractor)}")
            self.share_roi_extractor = False
            self.mask_roi_extractor = nn.ModuleList(build_model(c) for c in mask_roi_extractor)
        else:
            self.share_roi_extractor = True
            self.mask_roi_extractor = self.bbox_roi_extractor

    def init_assigner_sampler(self) -> None:
        self.bbox_assigner: list = []
        self.bbox_sampler: list = []
        if self.train_cfg is not None:
            if len(self.train_cfg) != self.num_stages:
                raise ValueError(f"train_cfg.rcnn must list {self.num_stages} stage configs")
            for stage_cfg in self.train_cfg:
                self.bbox_assigner.append(TASK_UTILS.build(stage_cfg["assigner"]))
                self.bbox_sampler.append(TASK_UTILS.build(stage_cfg["sampler"]))

    def _bbox_forward(self, stage: int, x: tuple[Tensor, ...], rois: Tensor) -> dict:
        extractor = self.bbox_roi_extractor[stage]
        bbox_feats = extractor(x[:extractor.num_inputs], rois)
        cls_score, bbox_pred = self.bbox_head[stage](bbox_feats)
        return dict(cls_score=cls_score, bbox_pred=bbox_pred, bbox_feats=bbox_feats)

    def _mask_forward(self, stage: int, x: tuple[Tensor, ...], rois: Tensor) -> dict:
        extractor = self.mask_roi_extractor[stage]
        mask_feats = extractor(x[:extractor.num_inputs], rois)
        return dict(mask_pred=self.mask_head[stage](mask_feats))

    def _mask_forward_train(self, stage: int, x: tuple[Tensor, ...], sampling_results: list,
                            gt_masks: list, stage_cfg: Any) -> dict:
        pos_rois = bbox2roi([res.pos_bboxes for res in sampling_results])
        results = self._mask_forward(stage, x, pos_rois)
        head = self.mask_head[stage]
        targets = head.get_targets(sampling_results, gt_masks, stage_cfg)
        pos_labels = torch.cat([res.pos_gt_labels for res in sampling_results])
        results.update(loss_mask=head.loss(results["mask_pred"], targets, pos_labels))
        return results

    def forward_train(self, x: tuple[Tensor, ...], img_metas: list[dict],
                      proposal_list: list[Tensor], gt_bboxes: list[Tensor],
                      gt_labels: list[Tensor], gt_bboxes_ignore: list[Tensor] | None = None,
                      gt_masks: Any = None, **kwargs: Any) -> dict:
        """Losses of every stage as ``s{i}.loss_cls``, ``s{i}.acc``, ``s{i}.loss_bbox`` (and
        ``s{i}.loss_mask``)."""
        if self.with_mask and gt_masks is None:
            raise ValueError(f"{type(self).__name__} has mask heads but got no gt_masks; load "
                             f"them with LoadAnnotations(with_mask=True) and collect "
                             f"'gt_masks'")
        losses: dict = {}
        for i in range(self.num_stages):
            self.current_stage = i
            stage_cfg = self.train_cfg[i]
            weight = self.stage_loss_weights[i]
            sampling_results = self.sample(x, img_metas, proposal_list, gt_bboxes, gt_labels,
                                           gt_bboxes_ignore, self.bbox_assigner[i],
                                           self.bbox_sampler[i])
            rois = bbox2roi([res.bboxes for res in sampling_results])
            results = self._bbox_forward(i, x, rois)
            head = self.bbox_head[i]
            targets = head.get_targets(sampling_results, gt_bboxes, gt_labels, stage_cfg)
            stage_losses = head.loss(results["cls_score"], results["bbox_pred"], rois, *targets)
            if self.with_mask:
                mask_losses = self._mask_forward_train(i, x, sampling_results, gt_masks,
                                                       stage_cfg)["loss_mask"]
                stage_losses = {**stage_losses, **mask_losses}
            for name, value in stage_losses.items():
                losses[f"s{i}.{name}"] = value * weight if "loss" in name else value
            if i < self.num_stages - 1:
                pos_is_gts = [res.pos_is_gt for res in sampling_results]
                with torch.no_grad():
                    cls_score = results["cls_score"]
                    if cls_score.numel() == 0:
                        break
                    # unassigned RoIs are refined with their predicted class
                    roi_labels = torch.where(targets[0] == head.num_classes,
                                             cls_score[:, :-1].argmax(1), targets[0])
                    proposal_list = head.refine_bboxes(rois, roi_labels, results["bbox_pred"],
                                                       pos_is_gts, img_metas)
        return losses

    def _simple_test_bboxes(self, x: tuple[Tensor, ...], proposal_list: list[Tensor],
                            img_metas: list[dict], rescale: bool = False,
                            **forward_kwargs: Any) -> tuple[list | None, list | None, list]:
        """The cascade's box test: stage-averaged raw logits, the last stage's boxes.

        ``forward_kwargs`` go to every stage's ``_bbox_forward`` (HTC's semantic features).

        Returns:
            ``(det_bboxes, det_labels, bbox_results)``: per image ``Tensor[n, 5]``,
            ``Tensor[n]`` and a list over classes of ``ndarray[n, 5]``; the first two are
            ``None`` when there are no proposals at all.
        """
        num_imgs = len(proposal_list)
        num_classes = self.bbox_head[-1].num_classes
        rois = bbox2roi(proposal_list)
        if rois.shape[0] == 0:
            empty = [[np.zeros((0, 5), dtype=np.float32) for _ in range(num_classes)]
                     for _ in range(num_imgs)]
            return None, None, empty
        per_img = tuple(len(p) for p in proposal_list)
        ms_scores = []
        for i in range(self.num_stages):
            results = self._bbox_forward(i, x, rois, **forward_kwargs)
            rois_split = rois.split(per_img, 0)
            cls_scores = results["cls_score"].split(per_img, 0)
            bbox_preds = split_bbox_pred(self.bbox_head[i], results["bbox_pred"], per_img)
            ms_scores.append(cls_scores)
            if i < self.num_stages - 1:
                refined = [self.bbox_head[i].regress_by_class(
                    rois_split[j], cls_scores[j][:, :-1].argmax(dim=1), bbox_preds[j],
                    img_metas[j]) for j in range(num_imgs) if rois_split[j].shape[0] > 0]
                rois = torch.cat(refined)
        det_bboxes, det_labels, outputs = [], [], []
        for i, meta in enumerate(img_metas):
            cls_score = sum(score[i] for score in ms_scores) / float(len(ms_scores))
            det_bbox, det_label = self.bbox_head[-1].get_bboxes(
                rois_split[i], cls_score, bbox_preds[i], meta["img_shape"],
                meta["scale_factor"], rescale=rescale, cfg=self.test_cfg)
            det_bboxes.append(det_bbox)
            det_labels.append(det_label)
            outputs.append(bbox2result(det_bbox, det_label, num_classes))
        return det_bboxes, det_labels, outputs

    def simple_test(self, x: tuple[Tensor, ...], proposal_list: list[Tensor],
                    img_metas: list[dict], rescale: bool = False, **kwargs: Any) -> list:
        """Stage-averaged scores, last stage's boxes; per image a list over classes (with
        masks: ``(bbox_results, segm_results)``)."""
        det_bboxes, det_labels, outputs = self._simple_test_bboxes(x, proposal_list, img_metas,
                                                                   rescale)
        if not self.with_mask:
            return outputs
        if det_bboxes is None:
            mask_classes = self.mask_head[-1].num_classes
            return [(b, [[] for _ in range(mask_classes)]) for b in outputs]
        return list(zip(outputs, self.simple_test_mask(x, img_metas, det_bboxes, det_labels,
                                                       rescale=rescale)))

    def simple_test_mask(self, x: tuple[Tensor, ...], img_metas: list[dict],
                         det_bboxes: list[Tensor], det_labels: list[Tensor],
                         rescale: bool = False) -> list:
        """Per image, per class masks: every stage's probabilities averaged, then pasted."""
        mask_classes = self.mask_head[-1].num_classes
        if all(b.shape[0] == 0 for b in det_bboxes):
            return [[[] for _ in range(mask_classes)] for _ in det_bboxes]
        scale_factors: Any = [meta["scale_factor"] for meta in img_metas]
        if rescale and not isinstance(scale_factors[0], float):
            scale_factors = [torch.from_numpy(np.asarray(s)).to(det_bboxes[0].device)
                             for s in scale_factors]
        bboxes = [det_bboxes[i][:, :4] * scale_factors[i] if rescale else det_bboxes[i][:, :4]
                  for i in range(len(det_bboxes))]
        mask_rois = bbox2roi(bboxes)
        per_img = tuple(b.size(0) for b in bboxes)
        aug_masks = []
        for i in range(self.num_stages):
            mask_pred = self._mask_forward(i, x, mask_rois)["mask_pred"].split(per_img, 0)
            aug_masks.append([m.sigmoid().cpu().detach().numpy() for m in mask_pred])
        results = []
        for i, meta in enumerate(img_metas):
            if det_bboxes[i].shape[0] == 0:
                results.append([[] for _ in range(mask_classes)])
                continue
            merged = merge_aug_masks([m[i] for m in aug_masks], [[meta]] * self.num_stages,
                                     self.test_cfg)
            results.append(self.mask_head[-1].get_seg_masks(
                merged, bboxes[i], det_labels[i], self.test_cfg, meta["ori_shape"],
                scale_factors[i], rescale))
        return results

    def aug_test(self, features: list[tuple[Tensor, ...]], proposal_list: list[Tensor],
                 img_metas: list[list[dict]], rescale: bool = False) -> list:
        """One image's detections merged over augmentations."""
        cfg = self.test_cfg
        aug_bboxes, aug_scores = [], []
        for x, metas in zip(features, img_metas):
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
                results = self._bbox_forward(i, x, rois)
                ms_scores.append(results["cls_score"])
                if i < self.num_stages - 1:
                    label = results["cls_score"][:, :-1].argmax(dim=1)
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
        out_bboxes = det_bboxes
        if not rescale:
            out_bboxes = det_bboxes.clone()
            out_bboxes[:, :4] *= det_bboxes.new_tensor(img_metas[0][0]["scale_factor"])
        bbox_result = bbox2result(out_bboxes, det_labels, self.bbox_head[-1].num_classes)
        if not self.with_mask:
            return [bbox_result]
        return [(bbox_result, self.aug_test_mask(features, img_metas, det_bboxes, det_labels))]

    def aug_test_mask(self, features: list[tuple[Tensor, ...]], img_metas: list[list[dict]],
                      det_bboxes: Tensor, det_labels: Tensor) -> list:
        """Masks of merged detections: every stage and augmentation averaged."""
        if det_bboxes.shape[0] == 0:
            return [[] for _ in range(self.mask_head[-1].num_classes)]
        aug_masks, aug_metas = [], []
        for x, metas in zip(features, img_metas):
            meta = metas[0]
            bboxes = bbox_mapping(det_bboxes[:, :4], meta["img_shape"], meta["scale_factor"],
                                  meta["flip"], meta["flip_direction"])
            mask_rois = bbox2roi([bboxes])
            for i in range(self.num_stages):
                pred = self._mask_forward(i, x, mask_rois)["mask_pred"]
                aug_masks.append(pred.sigmoid().cpu().numpy())
                aug_metas.append(metas)
        merged = merge_aug_masks(aug_masks, aug_metas, self.test_cfg)
        return self.mask_head[-1].get_seg_masks(merged, det_bboxes, det_labels, self.test_cfg,
                                                img_metas[0][0]["ori_shape"],
                                                scale_factor=np.ones(4), rescale=False)
