"""``RPNHead``: the region proposal network head of Faster R-CNN."""

from __future__ import annotations

import copy
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...ops import batched_nms
from ...registry import MODELS
from ..layers import ConvModule
from ..utils import force_fp32
from .anchor_head import AnchorHead


@MODELS.register_module()
class RPNHead(AnchorHead):
    """A 3x3 conv (or ``num_convs`` of them) then objectness and box-delta 1x1 convs.

    Args:
        in_channels: channels of the input feature maps.
        init_cfg: initialisation config (normal, std 0.01, on convs).
        num_convs: number of 3x3 convs before the two 1x1 convs.
        **kwargs: ``AnchorHead`` arguments (``feat_channels``, ``anchor_generator``, ...).
    """

    def __init__(self, in_channels: int, init_cfg: dict | list | None = None,
                 num_convs: int = 1, **kwargs: Any) -> None:
        self.num_convs = num_convs
        if init_cfg is None:
            init_cfg = dict(type="Normal", layer="Conv2d", std=0.01)
        super().__init__(1, in_channels, init_cfg=init_cfg, **kwargs)

    def _init_layers(self) -> None:
        if self.num_convs > 1:
            convs = [ConvModule(self.in_channels if i == 0 else self.feat_channels,
                                self.feat_channels, 3, padding=1, inplace=False)
                     for i in range(self.num_convs)]
            self.rpn_conv = nn.Sequential(*convs)
        else:
            self.rpn_conv = nn.Conv2d(self.in_channels, self.feat_channels, 3, padding=1)
        self.rpn_cls = nn.Conv2d(self.feat_channels,
                                 self.num_base_priors * self.cls_out_channels, 1)
        self.rpn_reg = nn.Conv2d(self.feat_channels, self.num_base_priors * 4, 1)

    def forward_single(self, x: Tensor) -> tuple[Tensor, Tensor]:
        x = F.relu(self.rpn_conv(x), inplace=False)
        return self.rpn_cls(x), self.rpn_reg(x)

    @force_fp32
    def loss(self, cls_scores: list[Tensor], bbox_preds: list[Tensor], gt_bboxes: list[Tensor],
             img_metas: list[dict], gt_bboxes_ignore: list[Tensor] | None = None) -> dict:
        """``dict(loss_rpn_cls=[per level], loss_rpn_bbox=[per level])``."""
        losses = super().loss(cls_scores, bbox_preds, gt_bboxes, None, img_metas,
                              gt_bboxes_ignore=gt_bboxes_ignore)
        return dict(loss_rpn_cls=losses["loss_cls"], loss_rpn_bbox=losses["loss_bbox"])

    def _get_bboxes_single(self, cls_score_list: list[Tensor], bbox_pred_list: list[Tensor],
                           score_factor_list: list, mlvl_anchors: list[Tensor], img_meta: dict,
                           cfg: Any, rescale: bool = False, with_nms: bool = True,
                           **kwargs: Any) -> Tensor:
        """Proposals ``Tensor[n, 5]`` of one image: top ``nms_pre`` per level, decode, NMS.

        Args:
            cls_score_list: per level ``Tensor[A*C, H, W]``.
            bbox_pred_list: per level ``Tensor[A*4, H, W]``.
            mlvl_anchors: per level ``Tensor[H*W*A, 4]``.
        """
        cfg = copy.deepcopy(self.test_cfg if cfg is None else cfg)
        nms_pre = cfg.get("nms_pre", -1)
        scores_list, deltas_list, anchors_list, level_ids = [], [], [], []
        for level, (cls_score, bbox_pred) in enumerate(zip(cls_score_list, bbox_pred_list)):
            if cls_score.size()[-2:] != bbox_pred.size()[-2:]:
                raise ValueError("cls_score and bbox_pred differ in size at level "
                                 f"{level}: {cls_score.shape} vs {bbox_pred.shape}")
            cls_score = cls_score.permute(1, 2, 0)
            if self.use_sigmoid_cls:
                scores = cls_score.reshape(-1).sigmoid()
            else:
                # foreground is class 0 and background the last class (since MMDetection 2.5)
                scores = cls_score.reshape(-1, 2).softmax(dim=1)[:, 0]
            deltas = bbox_pred.permute(1, 2, 0).reshape(-1, 4)
            anchors = mlvl_anchors[level]
            if 0 < nms_pre < scores.shape[0]:
                # a full descending sort (not topk) so that ties resolve as in MMDetection
                ranked, order = scores.sort(descending=True)
                keep = order[:nms_pre]
                scores, deltas, anchors = ranked[:nms_pre], deltas[keep, :], anchors[keep, :]
            scores_list.append(scores)
            deltas_list.append(deltas)
            anchors_list.append(anchors)
            level_ids.append(scores.new_full((scores.size(0),), level, dtype=torch.long))
        return self._bbox_post_process(scores_list, deltas_list, anchors_list, level_ids, cfg,
                                       img_meta["img_shape"])

    def _bbox_post_process(self, mlvl_scores: list[Tensor], mlvl_deltas: list[Tensor],
                           mlvl_anchors: list[Tensor], level_ids: list[Tensor], cfg: Any,
                           img_shape: tuple, **kwargs: Any) -> Tensor:
        """Decode, drop small boxes, NMS per level, keep ``max_per_img``."""
        scores = torch.cat(mlvl_scores)
        proposals = self.bbox_coder.decode(torch.cat(mlvl_anchors), torch.cat(mlvl_deltas),
                                           max_shape=img_shape)
        ids = torch.cat(level_ids)
        min_size = cfg.get("min_bbox_size", 0)
        if min_size >= 0:
            w = proposals[:, 2] - proposals[:, 0]
            h = proposals[:, 3] - proposals[:, 1]
            valid = (w > min_size) & (h > min_size)
            if not valid.all():
                proposals, scores, ids = proposals[valid], scores[valid], ids[valid]
        if proposals.numel() == 0:
            return proposals.new_zeros(0, 5)
        dets, _ = batched_nms(proposals, scores, ids, cfg["nms"])
        return dets[:cfg["max_per_img"]]
