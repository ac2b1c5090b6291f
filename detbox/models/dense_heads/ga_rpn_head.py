"""``GARPNHead``: the region proposal network with guided anchors (Guided Anchoring).

A 3x3 ``rpn_conv`` with ReLU, then ``GuidedAnchorHead``'s layers with one class
(objectness). Proposals: per level the kept locations' ``nms_pre`` best anchors, decoded,
small boxes dropped, NMS in the level and its ``nms_post`` best; then the ``max_per_img`` best
over the levels (or a second NMS across levels with ``nms_across_levels``).

>>> import torch
>>> head = GARPNHead(in_channels=4, feat_channels=4)
>>> [tuple(o[0].shape) for o in head([torch.zeros(1, 4, 5, 5)])]
[(1, 1, 5, 5), (1, 4, 5, 5), (1, 2, 5, 5), (1, 1, 5, 5)]
"""

from __future__ import annotations

import copy
import warnings
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...ops import nms
from ...registry import MODELS
from .guided_anchor_head import GuidedAnchorHead

__all__ = ["GARPNHead"]


def proposal_cfg_v2(cfg: Any) -> Any:
    """A copy of an RPN test config with the deprecated ``nms_thr`` / ``max_num`` moved to
    ``nms=dict(type='nms', iou_threshold=...)`` / ``max_per_img`` (and checked against them)."""
    cfg = copy.deepcopy(cfg)
    if "nms" not in cfg or "max_num" in cfg or "nms_thr" in cfg:
        warnings.warn("In rpn_proposal or test_cfg, nms_thr has been moved to a dict named nms "
                      "as iou_threshold, max_num has been renamed as max_per_img",
                      DeprecationWarning, stacklevel=3)
    if "nms" not in cfg:
        cfg["nms"] = dict(type="nms", iou_threshold=cfg["nms_thr"])
    if "max_num" in cfg:
        if "max_per_img" in cfg and cfg["max_per_img"] != cfg["max_num"]:
            raise ValueError(f"rpn test config: max_num={cfg['max_num']} and max_per_img="
                             f"{cfg['max_per_img']} disagree; delete max_num (deprecated)")
        cfg["max_per_img"] = cfg["max_num"]
    if "nms_thr" in cfg and cfg["nms"]["iou_threshold"] != cfg["nms_thr"]:
        raise ValueError(f"rpn test config: nms_thr={cfg['nms_thr']} and nms.iou_threshold="
                         f"{cfg['nms']['iou_threshold']} disagree; delete nms_thr (deprecated)")
    if cfg["nms"].get("type", "nms") != "nms":
        raise ValueError(f"GARPNHead only supports nms type 'nms', got {cfg['nms']['type']!r}")
    return cfg


@MODELS.register_module()
class GARPNHead(GuidedAnchorHead):
    """Guided-anchor RPN head.

    Args:
        in_channels: input channels.
        init_cfg: normal std 0.01 convs, ``conv_loc`` bias for a prior of 0.01.
        **kwargs: ``GuidedAnchorHead`` arguments (``feat_channels``, generators, coders,
            losses, ``train_cfg``, ``test_cfg``).
    """

    def __init__(self, in_channels: int, init_cfg: dict | list | None = None,
                 **kwargs: Any) -> None:
        if init_cfg is None:
            init_cfg = dict(type="Normal", layer="Conv2d", std=0.01,
                            override=dict(type="Normal", name="conv_loc", std=0.01,
                                          bias_prob=0.01))
        super().__init__(1, in_channels, init_cfg=init_cfg, **kwargs)

    def _init_layers(self) -> None:
        self.rpn_conv = nn.Conv2d(self.in_channels, self.feat_channels, 3, padding=1)
        super()._init_layers()

    def forward_single(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        return super().forward_single(F.relu(self.rpn_conv(x), inplace=True))

    def loss(self, cls_scores: list[Tensor], bbox_preds: list[Tensor],  # type: ignore[override]
             shape_preds: list[Tensor], loc_preds: list[Tensor], gt_bboxes: list[Tensor],
             img_metas: list[dict], gt_bboxes_ignore: list[Tensor] | None = None) -> dict:
        """``dict(loss_rpn_cls, loss_rpn_bbox, loss_anchor_shape, loss_anchor_loc)``."""
        losses = super().loss(cls_scores, bbox_preds, shape_preds, loc_preds, gt_bboxes, None,
                              img_metas, gt_bboxes_ignore=gt_bboxes_ignore)
        return dict(loss_rpn_cls=losses["loss_cls"], loss_rpn_bbox=losses["loss_bbox"],
                    loss_anchor_shape=losses["loss_shape"],
                    loss_anchor_loc=losses["loss_loc"])

    def _get_guided_bboxes_single(self, cls_scores: list[Tensor], bbox_preds: list[Tensor],
                                  mlvl_anchors: list[Tensor], mlvl_masks: list[Tensor],
                                  img_shape: Any, scale_factor: Any, cfg: Any,
                                  rescale: bool = False) -> Tensor:
        """Proposals ``Tensor[n, 5]`` (``x1, y1, x2, y2, score``) of one image."""
        cfg = proposal_cfg_v2(self.test_cfg if cfg is None else cfg)
        iou_thr = cfg["nms"]["iou_threshold"]
        mlvl_proposals = []
        for cls_score, bbox_pred, anchors, mask in zip(cls_scores, bbox_preds, mlvl_anchors,
                                                       mlvl_masks):
            if mask.sum() == 0:
                continue
            cls_score = cls_score.permute(1, 2, 0)
            if self.use_sigmoid_cls:
                scores = cls_score.reshape(-1).sigmoid()
            else:  # foreground is class 0, background the last
                scores = cls_score.reshape(-1, 2).softmax(dim=1)[:, 0]
            scores = scores[mask]
            bbox_pred = bbox_pred.permute(1, 2, 0).reshape(-1, 4)[mask, :]
            if 0 < cfg["nms_pre"] < scores.shape[0]:
                _, topk_inds = scores.topk(cfg["nms_pre"])
                bbox_pred, anchors, scores = (bbox_pred[topk_inds, :], anchors[topk_inds, :],
                                              scores[topk_inds])
            proposals = self.bbox_coder.decode(anchors, bbox_pred, max_shape=img_shape)
            if cfg["min_bbox_size"] >= 0:
                w = proposals[:, 2] - proposals[:, 0]
                h = proposals[:, 3] - proposals[:, 1]
                valid = (w > cfg["min_bbox_size"]) & (h > cfg["min_bbox_size"])
                if not valid.all():
                    proposals, scores = proposals[valid], scores[valid]
            proposals, _ = nms(proposals, scores, iou_thr)
            mlvl_proposals.append(proposals[:cfg["nms_post"], :])
        if not mlvl_proposals:
            return cls_scores[0].new_zeros(0, 5)
        proposals = torch.cat(mlvl_proposals, 0)
        if cfg.get("nms_across_levels", False):
            proposals, _ = nms(proposals[:, :4], proposals[:, -1], iou_thr)
            return proposals[:cfg["max_per_img"], :]
        num = min(cfg["max_per_img"], proposals.shape[0])
        _, topk_inds = proposals[:, 4].topk(num)
        return proposals[topk_inds, :]
