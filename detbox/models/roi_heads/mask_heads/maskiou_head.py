"""``MaskIoUHead``: Mask Scoring R-CNN's regression of each mask's IoU with its ground truth."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn.modules.utils import _pair

from ....registry import MODELS
from ...base_module import BaseModule
from ...utils import force_fp32


@MODELS.register_module()
class MaskIoUHead(BaseModule):
    """Predicts the IoU of a mask with its ground truth from the mask features and the mask.

    Layout: concat(RoI mask features, 2x max-pooled sigmoid mask) -> ``num_convs`` 3x3 convs
    (the last with stride 2) -> ``num_fcs`` fcs -> ``fc_mask_iou`` (one IoU per class).

    Args:
        num_convs / num_fcs: layer counts.
        roi_feat_size: side of the RoI mask features.
        in_channels / conv_out_channels / fc_out_channels: widths.
        num_classes: number of classes.
        loss_iou: loss config (MSE on positive targets).
        init_cfg: initialisation config.
    """

    def __init__(self, num_convs: int = 4, num_fcs: int = 2, roi_feat_size: int = 14,
                 in_channels: int = 256, conv_out_channels: int = 256,
                 fc_out_channels: int = 1024, num_classes: int = 80,
                 loss_iou: dict | None = None,
                 init_cfg: Any = (dict(type="Kaiming", override=dict(name="convs")),
                                  dict(type="Caffe2Xavier", override=dict(name="fcs")),
                                  dict(type="Normal", std=0.01,
                                       override=dict(name="fc_mask_iou")))) -> None:
        super().__init__(list(init_cfg) if isinstance(init_cfg, tuple) else init_cfg)
        self.in_channels = in_channels
        self.conv_out_channels = conv_out_channels
        self.fc_out_channels = fc_out_channels
        self.num_classes = num_classes
        self.fp16_enabled = False
        self.convs = nn.ModuleList(
            nn.Conv2d(in_channels + 1 if i == 0 else conv_out_channels, conv_out_channels, 3,
                      stride=2 if i == num_convs - 1 else 1, padding=1)
            for i in range(num_convs))
        size = _pair(roi_feat_size)
        pooled_area = (size[0] // 2) * (size[1] // 2)
        self.fcs = nn.ModuleList(
            nn.Linear(conv_out_channels * pooled_area if i == 0 else fc_out_channels,
                      fc_out_channels) for i in range(num_fcs))
        self.fc_mask_iou = nn.Linear(fc_out_channels, num_classes)
        self.relu = nn.ReLU()
        self.max_pool = nn.MaxPool2d(2, 2)
        self.loss_iou = MODELS.build(loss_iou or dict(type="MSELoss", loss_weight=0.5))

    def forward(self, mask_feat: Tensor, mask_pred: Tensor) -> Tensor:
        """``mask_feat[K, C, h, w]`` and logits ``mask_pred[K, 2h, 2w]`` -> ``[K, classes]``."""
        pooled = self.max_pool(mask_pred.sigmoid().unsqueeze(1))
        x = torch.cat((mask_feat, pooled), 1)
        for conv in self.convs:
            x = self.relu(conv(x))
        x = x.flatten(1)
        for fc in self.fcs:
            x = self.relu(fc(x))
        return self.fc_mask_iou(x)

    @force_fp32
    def loss(self, mask_iou_pred: Tensor, mask_iou_targets: Tensor) -> dict:
        """``dict(loss_mask_iou)`` over the RoIs with a positive target."""
        pos = mask_iou_targets > 0
        if pos.sum() > 0:
            return dict(loss_mask_iou=self.loss_iou(mask_iou_pred[pos], mask_iou_targets[pos]))
        return dict(loss_mask_iou=mask_iou_pred.sum() * 0)

    @force_fp32
    def get_targets(self, sampling_results: list, gt_masks: list, mask_pred: Tensor,
                    mask_targets: Tensor, rcnn_train_cfg: Any) -> Tensor:
        """IoU of each binarised predicted mask with its ground truth's full mask.

        The ground truth's area outside the RoI is accounted for with the ratio of its area
        inside the (integer) RoI to its whole area.
        """
        ratios = torch.cat([self._get_area_ratio(r.pos_bboxes, r.pos_assigned_gt_inds, m)
                            for r, m in zip(sampling_results, gt_masks)])
        if mask_targets.size(0) != ratios.size(0):
            raise ValueError(f"{mask_targets.size(0)} mask targets for {ratios.size(0)} RoIs")
        mask_pred = (mask_pred > rcnn_train_cfg["mask_thr_binary"]).float()
        pred_areas = mask_pred.sum((-1, -2))
        overlap = (mask_pred * mask_targets).sum((-1, -2))
        gt_full_areas = mask_targets.sum((-1, -2)) / (ratios + 1e-7)
        return overlap / (pred_areas + gt_full_areas - overlap)

    def _get_area_ratio(self, pos_proposals: Tensor, pos_assigned_gt_inds: Tensor,
                        gt_masks: Any) -> Tensor:
        num_pos = pos_proposals.size(0)
        if num_pos == 0:
            return pos_proposals.new_zeros((0,))
        proposals = pos_proposals.cpu().numpy()
        inds = pos_assigned_gt_inds.cpu().numpy()
        full_areas = gt_masks.areas
        ratios = []
        for i in range(num_pos):
            inside = gt_masks[inds[i]].crop(proposals[i, :].astype(np.int32))
            ratios.append(inside.areas[0] / (full_areas[inds[i]] + 1e-7))
        return torch.from_numpy(np.stack(ratios)).float().to(pos_proposals.device)

    @force_fp32
    def get_mask_scores(self, mask_iou_pred: Tensor, det_bboxes: Tensor,
                        det_labels: Tensor) -> list[np.ndarray]:
        """Per class, each detection's predicted mask IoU times its box score."""
        inds = range(det_labels.size(0))
        scores = (mask_iou_pred[inds, det_labels] * det_bboxes[inds, -1]).cpu().numpy()
        labels = det_labels.cpu().numpy()
        return [scores[labels == i] for i in range(self.num_classes)]
