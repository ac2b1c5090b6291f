"""``StandardRoIHead``: assign and sample proposals, pool their features, classify and regress."""

from __future__ import annotations

from typing import Any

from torch import Tensor

from ...ops import bbox2result, bbox2roi
from ...registry import MODELS, TASK_UTILS
from ..builder import build_model
from .base_roi_head import BaseRoIHead
from .test_mixins import BBoxTestMixin


@MODELS.register_module()
class StandardRoIHead(BBoxTestMixin, BaseRoIHead):
    """The RoI head of Faster R-CNN (one box stage)."""

    def init_assigner_sampler(self) -> None:
        self.bbox_assigner = None
        self.bbox_sampler = None
        if self.train_cfg:
            self.bbox_assigner = TASK_UTILS.build(self.train_cfg["assigner"])
            self.bbox_sampler = TASK_UTILS.build(self.train_cfg["sampler"])

    def init_bbox_head(self, bbox_roi_extractor: dict, bbox_head: dict) -> None:
        self.bbox_roi_extractor = build_model(bbox_roi_extractor)
        self.bbox_head = build_model(bbox_head)

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
        """``dict(loss_cls, acc, loss_bbox)`` for one batch."""
        sampling_results = self.sample(x, img_metas, proposal_list, gt_bboxes, gt_labels,
                                       gt_bboxes_ignore, self.bbox_assigner, self.bbox_sampler)
        return self._bbox_forward_train(x, sampling_results, gt_bboxes, gt_labels,
                                        img_metas)["loss_bbox"]

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

    def simple_test(self, x: tuple[Tensor, ...], proposal_list: list[Tensor],
                    img_metas: list[dict], proposals: Any = None, rescale: bool = False) -> list:
        """Per image, a list over classes of ``np.ndarray[n, 5]``."""
        if not self.with_bbox:
            raise RuntimeError("StandardRoIHead needs a bbox_head")
        det_bboxes, det_labels = self.simple_test_bboxes(x, img_metas, proposal_list,
                                                         self.test_cfg, rescale=rescale)
        return [bbox2result(b, lab, self.bbox_head.num_classes)
                for b, lab in zip(det_bboxes, det_labels)]

    def aug_test(self, x: list[tuple[Tensor, ...]], proposal_list: list[Tensor],
                 img_metas: list[list[dict]], rescale: bool = False) -> list:
        """One image's detections merged over augmentations."""
        det_bboxes, det_labels = self.aug_test_bboxes(x, img_metas, proposal_list, self.test_cfg)
        if not rescale:
            det_bboxes = det_bboxes.clone()
            det_bboxes[:, :4] *= det_bboxes.new_tensor(img_metas[0][0]["scale_factor"])
        return [bbox2result(det_bboxes, det_labels, self.bbox_head.num_classes)]
