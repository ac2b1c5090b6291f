"""``SparseRoIHead``: Sparse R-CNN's iterative stages over learned proposals.

Every stage pools RoI features of the current boxes, runs a ``DIIHead`` on them with the
current proposal features, and decodes refined boxes for the next stage; each stage is
matched to the ground truths with its own Hungarian assigner (all proposals are kept:
``PseudoSampler``). Losses are named ``stage{i}_loss_*``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from ...ops import bbox2result, bbox2roi, bbox_xyxy_to_cxcywh
from ...registry import MODELS
from ..task_modules import PseudoSampler
from .cascade_roi_head import CascadeRoIHead

__all__ = ["SparseRoIHead"]


def _default_bbox_head() -> dict:
    return dict(type="DIIHead", num_classes=80, num_ffn_fcs=2, num_heads=8, num_cls_fcs=1,
                num_reg_fcs=3, feedforward_channels=2048, in_channels=256, dropout=0.0,
                ffn_act_cfg=dict(type="ReLU", inplace=True))


@MODELS.register_module()
class SparseRoIHead(CascadeRoIHead):
    """Sparse R-CNN's RoI head (MMDetection 2.x arguments and state_dict).

    Args:
        num_stages: number of iterative stages.
        stage_loss_weights: weight of each stage's losses.
        proposal_feature_channel: channels of the proposal features.
        bbox_roi_extractor: RoI extractor config (one, or one per stage).
        mask_roi_extractor: not supported (``None``).
        bbox_head: ``DIIHead`` config (one, or one per stage).
        mask_head: not supported (``None``).
        train_cfg: one config per stage (``assigner``, ``sampler=PseudoSampler``,
            ``pos_weight``).
        test_cfg: ``dict(max_per_img=...)``.
        pretrained: deprecated.
        init_cfg: initialisation config.
    """

    def __init__(self, num_stages: int = 6, stage_loss_weights: Any = (1, 1, 1, 1, 1, 1),
                 proposal_feature_channel: int = 256, bbox_roi_extractor: Any = None,
                 mask_roi_extractor: Any = None, bbox_head: Any = None, mask_head: Any = None,
                 train_cfg: Any = None, test_cfg: Any = None, pretrained: str | None = None,
                 init_cfg: dict | list | None = None) -> None:
        if bbox_roi_extractor is None:
            bbox_roi_extractor = dict(
                type="SingleRoIExtractor",
                roi_layer=dict(type="RoIAlign", output_size=7, sampling_ratio=2),
                out_channels=256, featmap_strides=[4, 8, 16, 32])
        if bbox_head is None:
            bbox_head = _default_bbox_head()
        self.proposal_feature_channel = proposal_feature_channel
        super().__init__(num_stages, stage_loss_weights, bbox_roi_extractor=bbox_roi_extractor,
                         mask_roi_extractor=mask_roi_extractor, bbox_head=bbox_head,
                         mask_head=mask_head, train_cfg=train_cfg, test_cfg=test_cfg,
                         pretrained=pretrained, init_cfg=init_cfg)
        if train_cfg is not None:
            for stage in range(num_stages):
                if not isinstance(self.bbox_sampler[stage], PseudoSampler):
                    raise ValueError("Sparse R-CNN only supports `PseudoSampler`")

    def _bbox_forward(self, stage: int, x: tuple[Tensor, ...], rois: Tensor,
                      object_feats: Tensor, img_metas: list[dict]) -> dict:
        """One stage: scores, decoded boxes and the next proposal features."""
        num_imgs = len(img_metas)
        extractor = self.bbox_roi_extractor[stage]
        bbox_head = self.bbox_head[stage]
        bbox_feats = extractor(x[:extractor.num_inputs], rois)
        cls_score, bbox_pred, object_feats, attn_feats = bbox_head(bbox_feats, object_feats)
        proposal_list = bbox_head.refine_bboxes(
            rois, rois.new_zeros(len(rois)), bbox_pred.view(-1, bbox_pred.size(-1)),
            [rois.new_zeros(object_feats.size(1)) for _ in range(num_imgs)], img_metas)
        return dict(cls_score=cls_score, decode_bbox_pred=torch.cat(proposal_list),
                    object_feats=object_feats, attn_feats=attn_feats,
                    detach_cls_score_list=[cls_score[i].detach() for i in range(num_imgs)],
                    detach_proposal_list=[p.detach() for p in proposal_list])

    def forward_train(self, x: tuple[Tensor, ...], proposal_boxes: Tensor,
                      proposal_features: Tensor, img_metas: list[dict],
                      gt_bboxes: list[Tensor], gt_labels: list[Tensor],
                      gt_bboxes_ignore: Any = None, imgs_whwh: Tensor | None = None,
                      gt_masks: Any = None) -> dict:
        """Losses of every stage for ``proposal_boxes [B, P, 4]`` and
        ``proposal_features [B, P, C]``."""
        num_imgs = len(img_metas)
        imgs_whwh = imgs_whwh.repeat(1, proposal_boxes.size(1), 1)  # [B, P, 4]
        proposal_list = [proposal_boxes[i] for i in range(len(proposal_boxes))]
        object_feats = proposal_features
        losses: dict = {}
        for stage in range(self.num_stages):
            rois = bbox2roi(proposal_list)
            results = self._bbox_forward(stage, x, rois, object_feats, img_metas)
            cls_pred_list = results["detach_cls_score_list"]
            proposal_list = results["detach_proposal_list"]
            sampling_results = []
            for i in range(num_imgs):
                normalized = bbox_xyxy_to_cxcywh(proposal_list[i] / imgs_whwh[i])
                assign_result = self.bbox_assigner[stage].assign(
                    normalized, cls_pred_list[i], gt_bboxes[i], gt_labels[i], img_metas[i])
                sampling_results.append(self.bbox_sampler[stage].sample(
                    assign_result, proposal_list[i], gt_bboxes[i]))
            bbox_targets = self.bbox_head[stage].get_targets(
                sampling_results, gt_bboxes, gt_labels, self.train_cfg[stage], True)
            cls_score = results["cls_score"]
            stage_loss = self.bbox_head[stage].loss(
                cls_score.view(-1, cls_score.size(-1)), results["decode_bbox_pred"].view(-1, 4),
                *bbox_targets, imgs_whwh=imgs_whwh)
            for key, value in stage_loss.items():
                losses[f"stage{stage}_{key}"] = value * self.stage_loss_weights[stage]
            object_feats = results["object_feats"]
        return losses

    def simple_test(self, x: tuple[Tensor, ...], proposal_boxes: Tensor,
                    proposal_features: Tensor, img_metas: list[dict], imgs_whwh: Tensor,
                    rescale: bool = False) -> list:
        """Per image, a list over classes of ``np.ndarray[n, 5]``: the top ``max_per_img``
        (proposal, class) pairs of the last stage, without NMS."""
        num_imgs = len(img_metas)
        num_classes = self.bbox_head[-1].num_classes
        proposal_list = [proposal_boxes[i] for i in range(num_imgs)]
        if all(p.shape[0] == 0 for p in proposal_list):
            return [[np.zeros((0, 5), dtype=np.float32) for _ in range(num_classes)]
                    for _ in range(num_imgs)]
        object_feats = proposal_features
        for stage in range(self.num_stages):
            rois = bbox2roi(proposal_list)
            results = self._bbox_forward(stage, x, rois, object_feats, img_metas)
            object_feats = results["object_feats"]
            cls_score = results["cls_score"]
            proposal_list = results["detach_proposal_list"]
        if self.bbox_head[-1].loss_cls.use_sigmoid:
            cls_score = cls_score.sigmoid()
        else:
            cls_score = cls_score.softmax(-1)[..., :-1]
        bbox_results = []
        for i in range(num_imgs):
            scores, topk = cls_score[i].flatten(0, 1).topk(self.test_cfg["max_per_img"],
                                                           sorted=False)
            labels = topk % num_classes
            bboxes = proposal_list[i][topk // num_classes]
            if rescale:
                bboxes = bboxes / bboxes.new_tensor(img_metas[i]["scale_factor"])
            bbox_results.append(bbox2result(torch.cat([bboxes, scores[:, None]], dim=1),
                                            labels, num_classes))
        return bbox_results

    def aug_test(self, features: Any, proposal_list: Any, img_metas: Any,
                 rescale: bool = False) -> list:
        raise NotImplementedError("Sparse R-CNN does not support `aug_test`")

    def forward_dummy(self, x: tuple[Tensor, ...], proposal_boxes: Tensor,
                      proposal_features: Tensor, img_metas: list[dict]) -> list:
        """Every stage's raw outputs (for FLOPs counting)."""
        outs = []
        proposal_list = [proposal_boxes[i] for i in range(len(proposal_boxes))]
        object_feats = proposal_features
        for stage in range(self.num_stages):
            results = self._bbox_forward(stage, x, bbox2roi(proposal_list), object_feats,
                                         img_metas)
            outs.append((results,))
            proposal_list = results["detach_proposal_list"]
            object_feats = results["object_feats"]
        return outs
