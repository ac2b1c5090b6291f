"""``BaseDenseHead``: the v2 flow of dense heads (forward -> loss, forward -> boxes)."""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import Tensor

from ...ops import bbox_mapping_back, nms
from ..base_module import BaseModule
from ..utils import force_fp32, select_single_mlvl


class BaseDenseHead(BaseModule):
    """Base class of dense heads (RPN, RetinaNet, FCOS, ...).

    Subclasses provide ``forward(feats) -> (cls_scores, bbox_preds[, ...])`` (one tensor per
    level each), ``loss(...)`` and ``_get_bboxes_single(...)``, and set ``prior_generator``.
    """

    @force_fp32
    def get_bboxes(self, cls_scores: list[Tensor], bbox_preds: list[Tensor],
                   score_factors: list[Tensor] | None = None, img_metas: list[dict] | None = None,
                   cfg: Any = None, rescale: bool = False, with_nms: bool = True,
                   **kwargs: Any) -> list:
        """Boxes of every image from per-level outputs ``Tensor[B, A*C, H, W]``."""
        if len(cls_scores) != len(bbox_preds):
            raise ValueError("cls_scores and bbox_preds must have one tensor per level each")
        num_levels = len(cls_scores)
        featmap_sizes = [cls_scores[i].shape[-2:] for i in range(num_levels)]
        mlvl_priors = self.prior_generator.grid_priors(
            featmap_sizes, dtype=cls_scores[0].dtype, device=cls_scores[0].device)
        results = []
        for img_id, img_meta in enumerate(img_metas):
            factors = (select_single_mlvl(score_factors, img_id) if score_factors is not None
                       else [None] * num_levels)
            results.append(self._get_bboxes_single(
                select_single_mlvl(cls_scores, img_id), select_single_mlvl(bbox_preds, img_id),
                factors, mlvl_priors, img_meta, cfg, rescale, with_nms, **kwargs))
        return results

    def forward_train(self, x: tuple[Tensor, ...], img_metas: list[dict],
                      gt_bboxes: list[Tensor], gt_labels: list[Tensor] | None = None,
                      gt_bboxes_ignore: list[Tensor] | None = None, proposal_cfg: Any = None,
                      **kwargs: Any) -> Any:
        """Losses, plus proposals when ``proposal_cfg`` is given (the RPN in a two-stage model)."""
        outs = self(x)
        if gt_labels is None:
            loss_inputs = outs + (gt_bboxes, img_metas)
        else:
            loss_inputs = outs + (gt_bboxes, gt_labels, img_metas)
        losses = self.loss(*loss_inputs, gt_bboxes_ignore=gt_bboxes_ignore)
        if proposal_cfg is None:
            return losses
        return losses, self.get_bboxes(*outs, img_metas=img_metas, cfg=proposal_cfg)

    def simple_test(self, feats: tuple[Tensor, ...], img_metas: list[dict],
                    rescale: bool = False) -> list:
        """Detections of each image: ``(dets: Tensor[n, 5], labels: Tensor[n])``."""
        return self.get_bboxes(*self(feats), img_metas=img_metas, rescale=rescale)

    def simple_test_rpn(self, x: tuple[Tensor, ...], img_metas: list[dict]) -> list[Tensor]:
        """Proposals ``Tensor[n, 5]`` (``x1, y1, x2, y2, score``) of each image."""
        return self.get_bboxes(*self(x), img_metas=img_metas)

    def aug_test_rpn(self, feats: list[tuple[Tensor, ...]], img_metas: list[list[dict]]
                     ) -> list[Tensor]:
        """Proposals of each image merged over augmentations, in original-image pixels."""
        num_imgs = len(img_metas[0])
        aug_proposals: list[list[Tensor]] = [[] for _ in range(num_imgs)]
        for x, metas in zip(feats, img_metas):
            for i, proposals in enumerate(self.simple_test_rpn(x, metas)):
                aug_proposals[i].append(proposals)
        merged = []
        for i in range(num_imgs):
            metas = [img_metas[j][i] for j in range(len(img_metas))]
            merged.append(merge_aug_proposals(aug_proposals[i], metas, self.test_cfg))
        return merged


def merge_aug_proposals(aug_proposals: list[Tensor], img_metas: list[dict], cfg: Any) -> Tensor:
    """Map each augmentation's proposals back to the original image, NMS, keep the best.

    Args:
        aug_proposals: ``Tensor[n_i, 5]`` per augmentation.
        img_metas: the metas of those augmentations.
        cfg: ``nms=dict(iou_threshold=...)``, ``max_per_img``.
    """
    cfg = copy.deepcopy(cfg)
    recovered = []
    for proposals, meta in zip(aug_proposals, img_metas):
        p = proposals.clone()
        p[:, :4] = bbox_mapping_back(p[:, :4], meta["img_shape"], meta["scale_factor"],
                                     meta["flip"], meta["flip_direction"])
        recovered.append(p)
    merged_in = torch.cat(recovered, dim=0)
    merged, _ = nms(merged_in[:, :4].contiguous(), merged_in[:, -1].contiguous(),
                    cfg["nms"]["iou_threshold"])
    _, order = merged[:, 4].sort(0, descending=True)
    return merged[order[:min(cfg["max_per_img"], merged.shape[0])], :]

