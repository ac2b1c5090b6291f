"""``CenterNetHead``: objects as points (Zhou et al., 2019), MMDetection v2's names and steps.

Three branches on the neck's single map (3x3 conv, ReLU, 1x1 conv each): ``heatmap_head``
(``num_classes`` channels, sigmoid-ed in ``forward``), ``wh_head`` (box width / height in
feature pixels) and ``offset_head`` (sub-pixel center offset).

Targets: each ground truth's center, in feature pixels, is drawn as a gaussian (radius from
:func:`gaussian_radius` at overlap 0.3) into its class's heatmap; its integer center cell holds
its size and the fractional offset. Losses: ``GaussianFocalLoss`` over the heatmap averaged by
the number of heatmap peaks, ``L1Loss`` on sizes and offsets at the centers averaged by twice
that number.

Test: 3x3 local maxima of the heatmap, the ``topk`` best over classes and pixels, boxes from
center + offset and size, scaled to the batch input; ``border`` (``RandomCenterCropPad``) is
subtracted; no NMS (``with_nms=False``, MMDetection's default).
"""

from __future__ import annotations

from typing import Any, Sequence

import torch
from torch import Tensor, nn

from ...ops import batched_nms
from ...registry import MODELS
from ..task_modules.gaussian_target import (
    gaussian_radius,
    gen_gaussian_target,
    get_local_maximum,
    get_topk_from_heatmap,
    transpose_and_gather_feat,
)
from ..utils import force_fp32, multi_apply
from ..weight_init import bias_init_with_prob, normal_init
from .base_dense_head import BaseDenseHead

__all__ = ["CenterNetHead", "decode_center_heatmap"]


def decode_center_heatmap(center_heatmap_pred: Tensor, wh_pred: Tensor, offset_pred: Tensor,
                          img_shape: Sequence[int], k: int = 100,
                          kernel: int = 3) -> tuple[Tensor, Tensor]:
    """Top-``k`` boxes of a batch.

    Args:
        center_heatmap_pred: ``Tensor[B, C, H, W]`` probabilities.
        wh_pred: ``Tensor[B, 2, H, W]`` sizes in feature pixels.
        offset_pred: ``Tensor[B, 2, H, W]`` center offsets.
        img_shape: ``(h, w)`` of the batch input.
        k: boxes per image.
        kernel: local-maximum window.

    Returns:
        ``(Tensor[B, k, 5] boxes with scores, Tensor[B, k] labels)``.
    """
    height, width = center_heatmap_pred.shape[2:]
    inp_h, inp_w = img_shape[:2]
    heat = get_local_maximum(center_heatmap_pred, kernel=kernel)
    scores, index, labels, ys, xs = get_topk_from_heatmap(heat, k=k)
    wh = transpose_and_gather_feat(wh_pred, index)
    offset = transpose_and_gather_feat(offset_pred, index)
    xs = xs + offset[..., 0]
    ys = ys + offset[..., 1]
    boxes = torch.stack([(xs - wh[..., 0] / 2) * (inp_w / width),
                         (ys - wh[..., 1] / 2) * (inp_h / height),
                         (xs + wh[..., 0] / 2) * (inp_w / width),
                         (ys + wh[..., 1] / 2) * (inp_h / height)], dim=2)
    return torch.cat((boxes, scores[..., None]), dim=-1), labels


@MODELS.register_module()
class CenterNetHead(BaseDenseHead):
    """CenterNet head.

    Args:
        in_channel: channels of the neck's map.
        feat_channel: channels of each branch's hidden conv.
        num_classes: number of classes (no background).
        loss_center_heatmap: heatmap loss (``GaussianFocalLoss``).
        loss_wh: size loss (``L1Loss``, weight 0.1).
        loss_offset: offset loss (``L1Loss``).
        train_cfg: unused (kept for the detector).
        test_cfg: ``topk``, ``local_maximum_kernel``, ``max_per_img`` (and ``nms`` with NMS).
        init_cfg: initialisation config.
    """

    def __init__(self, in_channel: int, feat_channel: int, num_classes: int,
                 loss_center_heatmap: dict | None = None, loss_wh: dict | None = None,
                 loss_offset: dict | None = None, train_cfg: Any = None, test_cfg: Any = None,
                 init_cfg: dict | list | None = None) -> None:
        super().__init__(init_cfg)
        self.num_classes = num_classes
        self.heatmap_head = self._build_head(in_channel, feat_channel, num_classes)
        self.wh_head = self._build_head(in_channel, feat_channel, 2)
        self.offset_head = self._build_head(in_channel, feat_channel, 2)
        self.loss_center_heatmap = MODELS.build(
            loss_center_heatmap or dict(type="GaussianFocalLoss", loss_weight=1.0))
        self.loss_wh = MODELS.build(loss_wh or dict(type="L1Loss", loss_weight=0.1))
        self.loss_offset = MODELS.build(loss_offset or dict(type="L1Loss", loss_weight=1.0))
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg
        self.fp16_enabled = False

    @staticmethod
    def _build_head(in_channel: int, feat_channel: int, out_channel: int) -> nn.Sequential:
        return nn.Sequential(nn.Conv2d(in_channel, feat_channel, kernel_size=3, padding=1),
                             nn.ReLU(inplace=True),
                             nn.Conv2d(feat_channel, out_channel, kernel_size=1))

    def init_weights(self) -> None:
        """Heatmap bias at prior 0.1; size / offset convs Normal(0, 0.001) (MMDetection's)."""
        self.heatmap_head[-1].bias.data.fill_(bias_init_with_prob(0.1))
        for head in (self.wh_head, self.offset_head):
            for m in head.modules():
                if isinstance(m, nn.Conv2d):
                    normal_init(m, std=0.001)

    def forward(self, feats: Sequence[Tensor]) -> tuple[list[Tensor], ...]:
        """``(heatmaps, whs, offsets)``, one tensor per neck map each."""
        return multi_apply(self.forward_single, feats)

    def forward_single(self, feat: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """``Tensor[N, C, H, W]`` probabilities, ``Tensor[N, 2, H, W]`` twice."""
        return (self.heatmap_head(feat).sigmoid(), self.wh_head(feat), self.offset_head(feat))

    @force_fp32
    def loss(self, center_heatmap_preds: list[Tensor], wh_preds: list[Tensor],
             offset_preds: list[Tensor], gt_bboxes: list[Tensor], gt_labels: list[Tensor],
             img_metas: list[dict], gt_bboxes_ignore: list[Tensor] | None = None
             ) -> dict[str, Tensor]:
        """``loss_center_heatmap``, ``loss_wh``, ``loss_offset``."""
        if not len(center_heatmap_preds) == len(wh_preds) == len(offset_preds) == 1:
            raise AssertionError("CenterNetHead works on a single feature map")
        heat, wh, offset = center_heatmap_preds[0], wh_preds[0], offset_preds[0]
        targets, avg_factor = self.get_targets(gt_bboxes, gt_labels, heat.shape,
                                               img_metas[0]["pad_shape"])
        weight = targets["wh_offset_target_weight"]
        return dict(
            loss_center_heatmap=self.loss_center_heatmap(
                heat, targets["center_heatmap_target"], avg_factor=avg_factor),
            loss_wh=self.loss_wh(wh, targets["wh_target"], weight, avg_factor=avg_factor * 2),
            loss_offset=self.loss_offset(offset, targets["offset_target"], weight,
                                         avg_factor=avg_factor * 2))

    def get_targets(self, gt_bboxes: list[Tensor], gt_labels: list[Tensor],
                    feat_shape: Sequence[int], img_shape: Sequence[int]
                    ) -> tuple[dict[str, Tensor], Tensor | int]:
        """Heatmap ``[B, C, H, W]``, size / offset targets and their weights ``[B, 2, H, W]``
        of a batch, and the number of heatmap peaks (at least 1)."""
        img_h, img_w = img_shape[:2]
        bs, _, feat_h, feat_w = feat_shape
        width_ratio = float(feat_w / img_w)
        height_ratio = float(feat_h / img_h)
        ref = gt_bboxes[-1]
        heatmap = ref.new_zeros([bs, self.num_classes, feat_h, feat_w])
        wh_target = ref.new_zeros([bs, 2, feat_h, feat_w])
        offset_target = ref.new_zeros([bs, 2, feat_h, feat_w])
        weight = ref.new_zeros([bs, 2, feat_h, feat_w])
        for b in range(bs):
            boxes, labels = gt_bboxes[b], gt_labels[b]
            cx = (boxes[:, [0]] + boxes[:, [2]]) * width_ratio / 2
            cy = (boxes[:, [1]] + boxes[:, [3]]) * height_ratio / 2
            for j, center in enumerate(torch.cat((cx, cy), dim=1)):
                x_int, y_int = center.int()
                x, y = center
                box_h = (boxes[j][3] - boxes[j][1]) * height_ratio
                box_w = (boxes[j][2] - boxes[j][0]) * width_ratio
                radius = max(0, int(gaussian_radius([box_h, box_w], min_overlap=0.3)))
                gen_gaussian_target(heatmap[b, labels[j]], [x_int, y_int], radius)
                wh_target[b, 0, y_int, x_int] = box_w
                wh_target[b, 1, y_int, x_int] = box_h
                offset_target[b, 0, y_int, x_int] = x - x_int
                offset_target[b, 1, y_int, x_int] = y - y_int
                weight[b, :, y_int, x_int] = 1
        avg_factor = max(1, heatmap.eq(1).sum())
        return dict(center_heatmap_target=heatmap, wh_target=wh_target,
                    offset_target=offset_target, wh_offset_target_weight=weight), avg_factor

    @force_fp32
    def get_bboxes(self, center_heatmap_preds: list[Tensor], wh_preds: list[Tensor],
                   offset_preds: list[Tensor], img_metas: list[dict], rescale: bool = True,
                   with_nms: bool = False) -> list[tuple[Tensor, Tensor]]:
        """Per image ``(dets: Tensor[k, 5], labels: Tensor[k])``."""
        if not len(center_heatmap_preds) == len(wh_preds) == len(offset_preds) == 1:
            raise AssertionError("CenterNetHead works on a single feature map")
        return [self._get_bboxes_single(center_heatmap_preds[0][i:i + 1], wh_preds[0][i:i + 1],
                                        offset_preds[0][i:i + 1], img_metas[i],
                                        rescale=rescale, with_nms=with_nms)
                for i in range(len(img_metas))]

    def _get_bboxes_single(self, center_heatmap_pred: Tensor, wh_pred: Tensor,
                           offset_pred: Tensor, img_meta: dict, rescale: bool = False,
                           with_nms: bool = True) -> tuple[Tensor, Tensor]:
        dets, labels = decode_center_heatmap(
            center_heatmap_pred, wh_pred, offset_pred, img_meta["batch_input_shape"],
            k=self.test_cfg["topk"], kernel=self.test_cfg["local_maximum_kernel"])
        dets = dets.view(-1, 5)
        labels = labels.view(-1)
        border = dets.new_tensor(img_meta["border"])[..., [2, 0, 2, 0]]
        dets[..., :4] -= border
        if rescale:
            dets[..., :4] /= dets.new_tensor(img_meta["scale_factor"])
        if with_nms:
            dets, labels = self._bboxes_nms(dets, labels, self.test_cfg)
        return dets, labels

    def _bboxes_nms(self, bboxes: Tensor, labels: Tensor, cfg: Any) -> tuple[Tensor, Tensor]:
        """Class-wise NMS (``cfg['nms']``), then ``max_per_img``."""
        if labels.numel() > 0:
            max_num = cfg["max_per_img"]
            bboxes, keep = batched_nms(bboxes[:, :4], bboxes[:, -1].contiguous(), labels,
                                       cfg["nms"])
            if max_num > 0:
                bboxes = bboxes[:max_num]
                labels = labels[keep][:max_num]
        return bboxes, labels
