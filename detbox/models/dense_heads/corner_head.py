"""``CornerHead``: CornerNet's head (Law & Deng, 2018), MMDetection v2's names and defaults.

Per feature level ``i`` (2 for Hourglass-104: the intermediate supervision and the final
stack): ``tl_pool.i`` / ``br_pool.i`` (:class:`BiCornerPool` top+left / bottom+right) feed
``{tl,br}_heat.i`` (class heatmaps), ``{tl,br}_emb.i`` (grouping embeddings) and
``{tl,br}_off.i`` (sub-pixel offsets), each a 3x3 ``ConvModule`` then a 1x1 conv.

Training targets are gaussians at the ground-truth corners (radius from
:func:`gaussian_radius` with ``min_overlap=0.3``), offsets at the corner pixels and the corner
pairs for :class:`AssociativeEmbeddingLoss`; every level is trained against the same targets
(sized on the last level). Testing decodes the last level
(:func:`decode_corner_heatmap`) and applies ``test_cfg['nms']`` (soft-NMS in the configs).

>>> head = CornerHead(num_classes=2, in_channels=8, num_feat_levels=1)
>>> outs = head([torch.zeros(1, 8, 6, 6)])
>>> [tuple(o[0].shape) for o in outs]
[(1, 2, 6, 6), (1, 2, 6, 6), (1, 1, 6, 6), (1, 1, 6, 6), (1, 2, 6, 6), (1, 2, 6, 6)]
"""

from __future__ import annotations

import logging
from math import ceil
from typing import Any, Sequence

import torch
from torch import Tensor, nn

from ...ops import batched_nms
from ...registry import MODELS
from ..builder import build_model
from ..layers import ConvModule, CornerPool
from ..task_modules.gaussian_target import gaussian_radius, gen_gaussian_target
from ..utils import force_fp32, multi_apply
from ..weight_init import bias_init_with_prob
from .base_dense_head import BaseDenseHead
from .corner_decode import decode_corner_heatmap

__all__ = ["BiCornerPool", "CornerHead"]

logger = logging.getLogger(__name__)
_BN = dict(type="BN", requires_grad=True)


class BiCornerPool(nn.Module):
    """Two directional pools summed: ``conv2(relu(aftpool_conv(pool1(d1(x)) + pool2(d2(x)))
    + conv1(x)))``.

    Args:
        in_channels: input channels.
        directions: the two ``CornerPool`` modes, e.g. ``['top', 'left']``.
        feat_channels: channels of the pooled branches.
        out_channels: output channels.
        norm_cfg: norm of every conv.
    """

    def __init__(self, in_channels: int, directions: Sequence[str], feat_channels: int = 128,
                 out_channels: int = 128, norm_cfg: dict = _BN) -> None:
        super().__init__()
        self.direction1_conv = ConvModule(in_channels, feat_channels, 3, padding=1,
                                          norm_cfg=norm_cfg)
        self.direction2_conv = ConvModule(in_channels, feat_channels, 3, padding=1,
                                          norm_cfg=norm_cfg)
        self.aftpool_conv = ConvModule(feat_channels, out_channels, 3, padding=1,
                                       norm_cfg=norm_cfg, act_cfg=None)
        self.conv1 = ConvModule(in_channels, out_channels, 1, norm_cfg=norm_cfg, act_cfg=None)
        self.conv2 = ConvModule(in_channels, out_channels, 3, padding=1, norm_cfg=norm_cfg)
        self.direction1_pool = CornerPool(directions[0])
        self.direction2_pool = CornerPool(directions[1])
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        """``Tensor[N, in, H, W] -> Tensor[N, out, H, W]``."""
        pooled = (self.direction1_pool(self.direction1_conv(x))
                  + self.direction2_pool(self.direction2_conv(x)))
        return self.conv2(self.relu(self.aftpool_conv(pooled) + self.conv1(x)))


@MODELS.register_module()
class CornerHead(BaseDenseHead):
    """CornerNet's head.

    Args:
        num_classes: number of classes.
        in_channels: channels of each input level.
        num_feat_levels: number of input levels (2 for Hourglass-104, 1 for Hourglass-52).
        corner_emb_channels: embedding channels (0: no embedding branch).
        train_cfg: unused.
        test_cfg: ``corner_topk``, ``local_maximum_kernel``, ``distance_threshold``,
            ``max_per_img`` and ``nms``.
        loss_heatmap, loss_embedding, loss_offset: loss configs (``None`` disables one).
        init_cfg: must be ``None``, as in MMDetection.
    """

    def __init__(self, num_classes: int, in_channels: int, num_feat_levels: int = 2,
                 corner_emb_channels: int = 1, train_cfg: Any = None, test_cfg: Any = None,
                 loss_heatmap: dict | None = dict(  # noqa: B006 (never mutated)
                     type="GaussianFocalLoss", alpha=2.0, gamma=4.0, loss_weight=1),
                 loss_embedding: dict | None = dict(  # noqa: B006
                     type="AssociativeEmbeddingLoss", pull_weight=0.25, push_weight=0.25),
                 loss_offset: dict | None = dict(  # noqa: B006
                     type="SmoothL1Loss", beta=1.0, loss_weight=1),
                 init_cfg: dict | list | None = None) -> None:
        if init_cfg is not None:
            raise ValueError(f"{type(self).__name__}: init_cfg is not allowed to be set (to "
                             "prevent abnormal initialization behaviour, as in MMDetection)")
        super().__init__(init_cfg)
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.corner_emb_channels = corner_emb_channels
        self.with_corner_emb = corner_emb_channels > 0
        self.corner_offset_channels = 2
        self.num_feat_levels = num_feat_levels
        self.loss_heatmap = build_model(loss_heatmap) if loss_heatmap is not None else None
        self.loss_embedding = (build_model(loss_embedding) if loss_embedding is not None
                               else None)
        self.loss_offset = build_model(loss_offset) if loss_offset is not None else None
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg
        self.fp16_enabled = False
        self._init_layers()

    def _make_layers(self, out_channels: int, in_channels: int = 256,
                     feat_channels: int = 256) -> nn.Sequential:
        """A 3x3 conv + ReLU then a 1x1 conv to ``out_channels``."""
        return nn.Sequential(
            ConvModule(in_channels, feat_channels, 3, padding=1),
            ConvModule(feat_channels, out_channels, 1, norm_cfg=None, act_cfg=None))

    def _init_layers(self) -> None:
        ch = self.in_channels
        self.tl_pool = nn.ModuleList(BiCornerPool(ch, ["top", "left"], out_channels=ch)
                                     for _ in range(self.num_feat_levels))
        self.br_pool = nn.ModuleList(BiCornerPool(ch, ["bottom", "right"], out_channels=ch)
                                     for _ in range(self.num_feat_levels))
        # registration order = MMDetection's state_dict order: tl/br heat, then tl/br off
        for name, out_channels in (("tl_heat", self.num_classes), ("br_heat", self.num_classes),
                                   ("tl_off", self.corner_offset_channels),
                                   ("br_off", self.corner_offset_channels)):
            setattr(self, name, nn.ModuleList(
                self._make_layers(out_channels, ch) for _ in range(self.num_feat_levels)))
        if self.with_corner_emb:
            for prefix in ("tl", "br"):
                setattr(self, f"{prefix}_emb", nn.ModuleList(
                    self._make_layers(self.corner_emb_channels, ch)
                    for _ in range(self.num_feat_levels)))

    def init_weights(self) -> None:
        """Children's init, then PyTorch's default for the last convs, the heatmaps' bias
        set for a prior probability of 0.1."""
        super().init_weights()
        bias_init = bias_init_with_prob(0.1)
        names = ["tl_heat", "br_heat", "tl_off", "br_off"]
        if self.with_corner_emb:
            names += ["tl_emb", "br_emb"]
        for i in range(self.num_feat_levels):
            for name in names:
                conv = getattr(self, name)[i][-1].conv
                conv.reset_parameters()
                if name.endswith("heat"):
                    conv.bias.data.fill_(bias_init)

    def forward(self, feats: Sequence[Tensor]) -> tuple[list, ...]:
        """Per level: ``tl_heats, br_heats, tl_embs, br_embs, tl_offs, br_offs`` (lists)."""
        return multi_apply(self.forward_single, feats, list(range(self.num_feat_levels)))

    def forward_single(self, x: Tensor, lvl_ind: int, return_pool: bool = False) -> list:
        """Heatmap logits ``[N, C, H, W]``, embeddings ``[N, E, H, W]`` (or ``None``) and
        offsets ``[N, 2, H, W]`` of both corners, plus the pooled features if asked."""
        tl_pool = self.tl_pool[lvl_ind](x)
        br_pool = self.br_pool[lvl_ind](x)
        tl_emb = self.tl_emb[lvl_ind](tl_pool) if self.with_corner_emb else None
        br_emb = self.br_emb[lvl_ind](br_pool) if self.with_corner_emb else None
        result = [self.tl_heat[lvl_ind](tl_pool), self.br_heat[lvl_ind](br_pool), tl_emb,
                  br_emb, self.tl_off[lvl_ind](tl_pool), self.br_off[lvl_ind](br_pool)]
        if return_pool:
            result += [tl_pool, br_pool]
        return result

    def get_targets(self, gt_bboxes: list[Tensor], gt_labels: list[Tensor],
                    feat_shape: Sequence[int], img_shape: Sequence[int],
                    with_corner_emb: bool = False) -> dict:
        """Corner heatmaps ``[B, C, H, W]``, offsets ``[B, 2, H, W]`` and (optionally) the
        ``corner_embedding`` pairs ``[[tl_y, tl_x], [br_y, br_x]]`` per box, for feature maps
        of ``feat_shape = (B, _, H, W)`` on an input of ``img_shape = (H_in, W_in, ...)``."""
        batch_size, _, height, width = feat_shape
        img_h, img_w = img_shape[:2]
        width_ratio, height_ratio = float(width / img_w), float(height / img_h)
        ref = gt_bboxes[-1]
        tl_heat = ref.new_zeros([batch_size, self.num_classes, height, width])
        br_heat = ref.new_zeros([batch_size, self.num_classes, height, width])
        tl_off = ref.new_zeros([batch_size, 2, height, width])
        br_off = ref.new_zeros([batch_size, 2, height, width])
        match = []
        for b in range(batch_size):
            corner_match = []
            for box, label in zip(gt_bboxes[b], gt_labels[b]):
                left, top, right, bottom = box  # 0-d tensors: float32 arithmetic as MMDetection
                s_left, s_right = left * width_ratio, right * width_ratio
                s_top, s_bottom = top * height_ratio, bottom * height_ratio
                left_idx, right_idx = int(min(s_left, width - 1)), int(min(s_right, width - 1))
                top_idx, bottom_idx = (int(min(s_top, height - 1)),
                                       int(min(s_bottom, height - 1)))
                radius = gaussian_radius((ceil(s_bottom - s_top), ceil(s_right - s_left)),
                                         min_overlap=0.3)
                radius = max(0, int(radius))
                gen_gaussian_target(tl_heat[b, label], [left_idx, top_idx], radius)
                gen_gaussian_target(br_heat[b, label], [right_idx, bottom_idx], radius)
                tl_off[b, 0, top_idx, left_idx] = s_left - left_idx
                tl_off[b, 1, top_idx, left_idx] = s_top - top_idx
                br_off[b, 0, bottom_idx, right_idx] = s_right - right_idx
                br_off[b, 1, bottom_idx, right_idx] = s_bottom - bottom_idx
                corner_match.append([[top_idx, left_idx], [bottom_idx, right_idx]])
            match.append(corner_match)
        targets = dict(topleft_heatmap=tl_heat, topleft_offset=tl_off,
                       bottomright_heatmap=br_heat, bottomright_offset=br_off)
        if with_corner_emb:
            targets["corner_embedding"] = match
        return targets

    @force_fp32
    def loss(self, tl_heats: list[Tensor], br_heats: list[Tensor], tl_embs: list,
             br_embs: list, tl_offs: list[Tensor], br_offs: list[Tensor],
             gt_bboxes: list[Tensor], gt_labels: list[Tensor], img_metas: list[dict],
             gt_bboxes_ignore: list[Tensor] | None = None) -> dict[str, list[Tensor]]:
        """``det_loss``, ``off_loss`` (and ``pull_loss``, ``push_loss``), one per level."""
        targets = self.get_targets(gt_bboxes, gt_labels, tl_heats[-1].shape,
                                   img_metas[0]["pad_shape"],
                                   with_corner_emb=self.with_corner_emb)
        det, pull, push, off = multi_apply(self.loss_single, tl_heats, br_heats, tl_embs,
                                           br_embs, tl_offs, br_offs,
                                           [targets] * self.num_feat_levels)
        losses = dict(det_loss=det, off_loss=off)
        if self.with_corner_emb:
            losses.update(pull_loss=pull, push_loss=push)
        return losses

    def loss_single(self, tl_hmp: Tensor, br_hmp: Tensor, tl_emb: Tensor | None,
                    br_emb: Tensor | None, tl_off: Tensor, br_off: Tensor, targets: dict
                    ) -> tuple[Tensor, Tensor | None, Tensor | None, Tensor]:
        """Losses of one level: detection (mean of both corners), pull, push, offset."""
        gt_tl, gt_br = targets["topleft_heatmap"], targets["bottomright_heatmap"]
        tl_det = self.loss_heatmap(tl_hmp.sigmoid(), gt_tl, avg_factor=max(1, gt_tl.eq(1).sum()))
        br_det = self.loss_heatmap(br_hmp.sigmoid(), gt_br, avg_factor=max(1, gt_br.eq(1).sum()))
        det_loss = (tl_det + br_det) / 2.0
        pull_loss = push_loss = None
        if self.with_corner_emb and self.loss_embedding is not None and tl_emb is not None:
            pull_loss, push_loss = self.loss_embedding(tl_emb, br_emb,
                                                       targets["corner_embedding"])
        tl_mask = gt_tl.eq(1).sum(1).gt(0).unsqueeze(1).type_as(gt_tl)  # [B, 1, H, W]
        br_mask = gt_br.eq(1).sum(1).gt(0).unsqueeze(1).type_as(gt_br)
        tl_off_loss = self.loss_offset(tl_off, targets["topleft_offset"], tl_mask,
                                       avg_factor=max(1, tl_mask.sum()))
        br_off_loss = self.loss_offset(br_off, targets["bottomright_offset"], br_mask,
                                       avg_factor=max(1, br_mask.sum()))
        return det_loss, pull_loss, push_loss, (tl_off_loss + br_off_loss) / 2.0

    @force_fp32
    def get_bboxes(self, tl_heats: list[Tensor], br_heats: list[Tensor], tl_embs: list,
                   br_embs: list, tl_offs: list[Tensor], br_offs: list[Tensor],
                   img_metas: list, rescale: bool = False, with_nms: bool = True
                   ) -> list[tuple[Tensor, Tensor]]:
        """Per image ``(dets: Tensor[n, 5], labels: Tensor[n])`` from the last level."""
        if not tl_heats[-1].shape[0] == br_heats[-1].shape[0] == len(img_metas):
            raise ValueError("CornerHead.get_bboxes: one img_meta per image is needed")
        results = []
        for i, img_meta in enumerate(img_metas):
            results.append(self._get_bboxes_single(
                tl_heats[-1][i:i + 1], br_heats[-1][i:i + 1], tl_offs[-1][i:i + 1],
                br_offs[-1][i:i + 1], img_meta, tl_embs[-1][i:i + 1], br_embs[-1][i:i + 1],
                rescale=rescale, with_nms=with_nms))
        return results

    def _get_bboxes_single(self, tl_heat: Tensor, br_heat: Tensor, tl_off: Tensor,
                           br_off: Tensor, img_meta: dict | list, tl_emb: Tensor,
                           br_emb: Tensor, rescale: bool = False, with_nms: bool = True
                           ) -> tuple[Tensor, Tensor]:
        if isinstance(img_meta, (list, tuple)):
            img_meta = img_meta[0]
        cfg = self.test_cfg
        bboxes, scores, clses = decode_corner_heatmap(
            tl_heat.sigmoid(), br_heat.sigmoid(), tl_off, br_off, tl_emb, br_emb, img_meta,
            k=cfg["corner_topk"], kernel=cfg["local_maximum_kernel"],
            distance_threshold=cfg["distance_threshold"])
        return self._finish_dets(bboxes, scores, clses, img_meta, rescale, with_nms)

    def _finish_dets(self, bboxes: Tensor, scores: Tensor, clses: Tensor, img_meta: dict,
                     rescale: bool, with_nms: bool) -> tuple[Tensor, Tensor]:
        """Decoded pairs (``[1, n, 4]``, ``[1, n, 1]``, ``[1, n, 1]``) to ``(dets [m, 5],
        labels [m])``: rescaled, rejected pairs (score -1) dropped, then NMS."""
        cfg = self.test_cfg
        if rescale:
            bboxes = bboxes / bboxes.new_tensor(img_meta["scale_factor"])
        detections = torch.cat([bboxes.reshape(-1, 4), scores.reshape(-1, 1)], -1)
        keep = detections[:, -1] > -0.1
        detections, labels = detections[keep], clses.reshape(-1)[keep]
        if with_nms:
            detections, labels = self._bboxes_nms(detections, labels, cfg)
        return detections, labels

    def _bboxes_nms(self, bboxes: Tensor, labels: Tensor, cfg: Any) -> tuple[Tensor, Tensor]:
        """Class-wise ``cfg['nms']`` on ``bboxes: Tensor[n, 5]``, then the best
        ``max_per_img``."""
        if "nms_cfg" in cfg:
            logger.warning("nms_cfg in test_cfg will be deprecated. Please rename it as nms")
        nms_cfg = cfg["nms"] if "nms" in cfg else cfg["nms_cfg"]
        if labels.numel() > 0:
            max_num = cfg["max_per_img"]
            bboxes, keep = batched_nms(bboxes[:, :4], bboxes[:, -1].contiguous(), labels,
                                       nms_cfg)
            if max_num > 0:
                bboxes, labels = bboxes[:max_num], labels[keep][:max_num]
        return bboxes, labels
