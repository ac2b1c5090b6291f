"""``BaseDenseHead``: the v2 flow of dense heads (forward -> loss, forward -> boxes)."""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import Tensor

from ...ops import batched_nms, bbox_mapping_back, nms
from ..base_module import BaseModule
from ..utils import force_fp32, select_single_mlvl
from .dense_test_mixins import BBoxTestMixin
from .head_utils import filter_scores_and_topk


class BaseDenseHead(BaseModule, BBoxTestMixin):
    """Base class of dense heads (RPN, RetinaNet, FCOS, ...).

    Subclasses provide ``forward(feats) -> (cls_scores, bbox_preds[, score_factors])`` (one
    tensor per level each) and ``loss(...)``, and set ``prior_generator``, ``bbox_coder``,
    ``cls_out_channels``, ``use_sigmoid_cls`` and ``test_cfg``. The generic
    :meth:`_get_bboxes_single` turns one image's outputs into detections (RPN overrides it).
    """

    def init_weights(self) -> None:
        """``init_cfg`` as usual, then zero every deformable conv's ``conv_offset`` (so the
        head's own init rules cannot give it random offsets)."""
        super().init_weights()
        for module in self.modules():
            conv_offset = getattr(module, "conv_offset", None)
            if isinstance(conv_offset, torch.nn.Module):
                for name in ("weight", "bias"):
                    param = getattr(conv_offset, name, None)
                    if param is not None:
                        torch.nn.init.constant_(param, 0)

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

    def _get_bboxes_single(self, cls_score_list: list[Tensor], bbox_pred_list: list[Tensor],
                           score_factor_list: list[Tensor | None], mlvl_priors: list[Tensor],
                           img_meta: dict, cfg: Any, rescale: bool = False,
                           with_nms: bool = True, **kwargs: Any) -> tuple[Tensor, ...]:
        """Detections of one image (MMDetection 2.28's order of steps).

        Per level: scores (sigmoid, or softmax without the background), keep the
        ``(prior, class)`` pairs above ``score_thr``, then the ``nms_pre`` best of them
        (:func:`filter_scores_and_topk`), decode their boxes clipped to ``img_shape``; score
        factors (centerness) are sigmoid-ed and multiplied in after that selection.

        Args:
            cls_score_list: per level ``Tensor[A*C, H, W]``.
            bbox_pred_list: per level ``Tensor[A*4, H, W]``.
            score_factor_list: per level ``Tensor[A, H, W]`` logits, or ``None`` each.
            mlvl_priors: per level ``Tensor[H*W*A, 4]`` anchors or ``Tensor[H*W, 2]`` points.
            img_meta: the image's meta (``img_shape``, ``scale_factor``).
            cfg: ``score_thr``, ``nms_pre``, ``nms``, ``max_per_img``; ``test_cfg`` if None.
            rescale: divide boxes by ``scale_factor`` (original-image pixels).
            with_nms: run NMS; without it return the candidates (for test-time augmentation).

        Returns:
            ``(dets: Tensor[n, 5], labels: Tensor[n])``; without NMS ``(bboxes[n, 4],
            scores[n], labels[n])``.
        """
        with_score_factors = score_factor_list[0] is not None
        cfg = self.test_cfg if cfg is None else cfg
        img_shape = img_meta["img_shape"]
        nms_pre = cfg.get("nms_pre", -1)
        mlvl_bboxes, mlvl_scores, mlvl_labels = [], [], []
        mlvl_score_factors: list[Tensor] | None = [] if with_score_factors else None
        for level, (cls_score, bbox_pred, score_factor, priors) in enumerate(
                zip(cls_score_list, bbox_pred_list, score_factor_list, mlvl_priors)):
            if cls_score.size()[-2:] != bbox_pred.size()[-2:]:
                raise ValueError("cls_score and bbox_pred differ in size at level "
                                 f"{level}: {tuple(cls_score.shape)} vs {tuple(bbox_pred.shape)}")
            bbox_pred = bbox_pred.permute(1, 2, 0).reshape(-1, 4)
            if with_score_factors:
                score_factor = score_factor.permute(1, 2, 0).reshape(-1).sigmoid()
            cls_score = cls_score.permute(1, 2, 0).reshape(-1, self.cls_out_channels)
            if self.use_sigmoid_cls:
                scores = cls_score.sigmoid()
            else:
                scores = cls_score.softmax(-1)[:, :-1]  # the background is the last class
            scores, labels, keep_idxs, selected = filter_scores_and_topk(
                scores, cfg["score_thr"], nms_pre, dict(bbox_pred=bbox_pred, priors=priors))
            bboxes = self._decode_level(selected["priors"], selected["bbox_pred"], level,
                                        img_shape)
            mlvl_bboxes.append(bboxes)
            mlvl_scores.append(scores)
            mlvl_labels.append(labels)
            if mlvl_score_factors is not None:
                mlvl_score_factors.append(score_factor[keep_idxs])
        return self._bbox_post_process(mlvl_scores, mlvl_labels, mlvl_bboxes,
                                       img_meta["scale_factor"], cfg, rescale, with_nms,
                                       mlvl_score_factors, **kwargs)

    def _decode_level(self, priors: Tensor, bbox_pred: Tensor, level: int,
                      max_shape: Any) -> Tensor:
        """Boxes ``Tensor[n, 4]`` of one level's kept predictions (the box coder's decode;
        heads whose decoding depends on the level override this)."""
        return self.bbox_coder.decode(priors, bbox_pred, max_shape=max_shape)

    def _bbox_post_process(self, mlvl_scores: list[Tensor], mlvl_labels: list[Tensor],
                           mlvl_bboxes: list[Tensor], scale_factor: Any, cfg: Any,
                           rescale: bool = False, with_nms: bool = True,
                           mlvl_score_factors: list[Tensor] | None = None,
                           **kwargs: Any) -> tuple[Tensor, ...]:
        """Concatenate the levels, rescale, weight by score factors, class-wise NMS.

        Returns:
            ``(dets: Tensor[n, 5], labels: Tensor[n])`` with at most ``max_per_img`` rows;
            without NMS ``(bboxes[n, 4], scores[n], labels[n])``.
        """
        if not len(mlvl_scores) == len(mlvl_bboxes) == len(mlvl_labels):
            raise AssertionError("scores, bboxes and labels must have one entry per level")
        bboxes = torch.cat(mlvl_bboxes)
        if rescale:
            bboxes /= bboxes.new_tensor(scale_factor)
        scores = torch.cat(mlvl_scores)
        labels = torch.cat(mlvl_labels)
        if mlvl_score_factors is not None:
            scores = scores * torch.cat(mlvl_score_factors)
        if not with_nms:
            return bboxes, scores, labels
        if bboxes.numel() == 0:
            return torch.cat([bboxes, scores[:, None]], -1), labels
        dets, keep = batched_nms(bboxes, scores, labels, cfg["nms"])
        return dets[:cfg["max_per_img"]], labels[keep][:cfg["max_per_img"]]

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

