"""``FCNMaskHead``: Mask R-CNN's mask branch (convs, 2x upsampling, one logit map per class)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn.modules.utils import _pair

from ....registry import MODELS
from ...base_module import BaseModule
from ...layers import ConvModule, build_conv_layer, build_upsample_layer
from ...utils import force_fp32
from .mask_target import mask_target
from .paste import paste_masks

BYTES_PER_FLOAT = 4
GPU_MEM_LIMIT = 1024 ** 3  # pasting on a GPU is chunked to about 1 GB


@MODELS.register_module()
class FCNMaskHead(BaseModule):
    """Fully convolutional mask head.

    Layout: ``num_convs`` x (conv ``k x k`` + ReLU) -> upsample (``deconv`` + ReLU, or
    ``nearest``/``bilinear``) -> ``conv_logits`` 1x1 (``num_classes`` maps, or 1 when
    ``class_agnostic``).

    Args:
        num_convs: number of convs.
        roi_feat_size: side of the pooled RoI features.
        in_channels: channels of the RoI features.
        conv_kernel_size: kernel of the convs.
        conv_out_channels: channels of the convs.
        num_classes: number of classes.
        class_agnostic: one mask per RoI.
        upsample_cfg: ``dict(type='deconv'|'nearest'|'bilinear'|None, scale_factor=2)``.
        conv_cfg / norm_cfg: of the convs.
        predictor_cfg: conv config of ``conv_logits``.
        loss_mask: mask loss config.
        init_cfg: must be ``None`` (Kaiming init of upsample and logits, as v2).
    """

    def __init__(self, num_convs: int = 4, roi_feat_size: int = 14, in_channels: int = 256,
                 conv_kernel_size: int = 3, conv_out_channels: int = 256,
                 num_classes: int = 80, class_agnostic: bool = False,
                 upsample_cfg: dict | None = None, conv_cfg: dict | None = None,
                 norm_cfg: dict | None = None, predictor_cfg: dict | None = None,
                 loss_mask: dict | None = None, init_cfg: dict | None = None) -> None:
        if init_cfg is not None:
            raise ValueError("FCNMaskHead: init_cfg is not allowed (its own init is used)")
        super().__init__(init_cfg)
        upsample_cfg = dict(upsample_cfg or dict(type="deconv", scale_factor=2))
        loss_mask = loss_mask or dict(type="CrossEntropyLoss", use_mask=True, loss_weight=1.0)
        self.predictor_cfg = predictor_cfg or dict(type="Conv")
        if upsample_cfg["type"] not in (None, "deconv", "nearest", "bilinear", "carafe"):
            raise ValueError(f"Invalid upsample method {upsample_cfg['type']}, accepted "
                             f"methods are 'deconv', 'nearest', 'bilinear', 'carafe'")
        if upsample_cfg["type"] == "carafe":
            raise NotImplementedError("FCNMaskHead: CARAFE upsampling is not supported")
        self.upsample_cfg = upsample_cfg
        self.num_convs = num_convs
        self.roi_feat_size = _pair(roi_feat_size)
        self.in_channels = in_channels
        self.conv_kernel_size = conv_kernel_size
        self.conv_out_channels = conv_out_channels
        self.upsample_method = upsample_cfg.get("type")
        self.scale_factor = upsample_cfg.pop("scale_factor", None)
        self.num_classes = num_classes
        self.class_agnostic = class_agnostic
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        self.fp16_enabled = False
        self.loss_mask = MODELS.build(loss_mask)

        padding = (conv_kernel_size - 1) // 2
        self.convs = nn.ModuleList(
            ConvModule(in_channels if i == 0 else conv_out_channels, conv_out_channels,
                       conv_kernel_size, padding=padding, conv_cfg=conv_cfg, norm_cfg=norm_cfg)
            for i in range(num_convs))
        up_in = conv_out_channels if num_convs > 0 else in_channels
        up_cfg = dict(upsample_cfg)
        if self.upsample_method is None:
            self.upsample = None
        elif self.upsample_method == "deconv":
            up_cfg.update(in_channels=up_in, out_channels=conv_out_channels,
                          kernel_size=self.scale_factor, stride=self.scale_factor)
            self.upsample = build_upsample_layer(up_cfg)
        else:
            up_cfg.update(scale_factor=self.scale_factor, mode=self.upsample_method,
                          align_corners=None if self.upsample_method == "nearest" else False)
            self.upsample = build_upsample_layer(up_cfg)
        out_channels = 1 if class_agnostic else num_classes
        logits_in = conv_out_channels if self.upsample_method == "deconv" else up_in
        self.conv_logits = build_conv_layer(self.predictor_cfg, logits_in, out_channels, 1)
        self.relu = nn.ReLU(inplace=True)

    def init_weights(self) -> None:
        super().init_weights()
        for m in (self.upsample, self.conv_logits):
            if m is not None and getattr(m, "weight", None) is not None \
                    and getattr(m, "bias", None) is not None:
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.constant_(m.bias, 0)

    def forward(self, x: Tensor) -> Tensor:
        """RoI features ``Tensor[K, C, h, w]`` -> mask logits ``Tensor[K, classes, 2h, 2w]``."""
        for conv in self.convs:
            x = conv(x)
        if self.upsample is not None:
            x = self.upsample(x)
            if self.upsample_method == "deconv":
                x = self.relu(x)
        return self.conv_logits(x)

    def get_targets(self, sampling_results: list, gt_masks: list, rcnn_train_cfg: Any) -> Tensor:
        """Targets ``Tensor[P, mask_size, mask_size]`` of all positive RoIs of the batch."""
        return mask_target([r.pos_bboxes for r in sampling_results],
                           [r.pos_assigned_gt_inds for r in sampling_results], gt_masks,
                           rcnn_train_cfg)

    @force_fp32
    def loss(self, mask_pred: Tensor, mask_targets: Tensor, labels: Tensor) -> dict:
        """``dict(loss_mask)``: BCE of each positive RoI's channel of its class."""
        if mask_pred.size(0) == 0:
            return dict(loss_mask=mask_pred.sum())
        if self.class_agnostic:
            labels = torch.zeros_like(labels)
        return dict(loss_mask=self.loss_mask(mask_pred, mask_targets, labels))

    def get_seg_masks(self, mask_pred: Tensor | np.ndarray, det_bboxes: Tensor,
                      det_labels: Tensor, rcnn_test_cfg: Any, ori_shape: tuple,
                      scale_factor: Any, rescale: bool) -> list[list[np.ndarray]]:
        """Binary image masks of the detections, per class (v2's ``get_seg_masks``).

        Args:
            mask_pred: ``[n, classes, h, w]`` logits (a Tensor) or probabilities (an array,
                merged over test-time augmentations).
            det_bboxes: ``Tensor[n, 4 or 5]`` in the test image's pixels.
            det_labels: ``Tensor[n]``.
            rcnn_test_cfg: has ``mask_thr_binary`` (``< 0``: uint8 soft masks 0..255).
            ori_shape: ``(h, w, ...)`` of the original image.
            scale_factor: ``[w, h, w, h]`` of the test image.
            rescale: paste into ``ori_shape`` (boxes divided by ``scale_factor``); else
                into the original size times ``scale_factor``.

        Returns:
            A list over classes of ``ndarray[H, W]`` masks (bool, or uint8 when soft).
        """
        if isinstance(mask_pred, Tensor):
            mask_pred = mask_pred.sigmoid()
        else:
            mask_pred = det_bboxes.new_tensor(mask_pred)
        device = mask_pred.device
        cls_segms: list[list[np.ndarray]] = [[] for _ in range(self.num_classes)]
        bboxes = det_bboxes[:, :4]
        labels = det_labels
        if not isinstance(scale_factor, Tensor):
            if isinstance(scale_factor, float):
                scale_factor = np.array([scale_factor] * 4)
            scale_factor = torch.Tensor(np.asarray(scale_factor))
        if rescale:
            img_h, img_w = ori_shape[:2]
            bboxes = bboxes / scale_factor.to(bboxes)
        else:
            w_scale, h_scale = scale_factor[0], scale_factor[1]
            img_h = np.round(ori_shape[0] * h_scale.item()).astype(np.int32)
            img_w = np.round(ori_shape[1] * w_scale.item()).astype(np.int32)
        n = len(mask_pred)
        if device.type == "cpu":
            num_chunks = n  # one mask at a time, each only over its own box
        else:
            num_chunks = int(np.ceil(n * int(img_h) * int(img_w) * BYTES_PER_FLOAT
                                     / GPU_MEM_LIMIT))
            if num_chunks > n:
                raise RuntimeError("GPU_MEM_LIMIT is too small to paste these masks")
        chunks = torch.chunk(torch.arange(n, device=device), num_chunks)
        threshold = rcnn_test_cfg["mask_thr_binary"]
        im_mask = torch.zeros(n, int(img_h), int(img_w), device=device,
                              dtype=torch.bool if threshold >= 0 else torch.uint8)
        if not self.class_agnostic:
            mask_pred = mask_pred[range(n), labels][:, None]
        for inds in chunks:
            chunk, spatial = paste_masks(mask_pred[inds], bboxes[inds], int(img_h), int(img_w),
                                         skip_empty=device.type == "cpu")
            if threshold >= 0:
                chunk = (chunk >= threshold).to(dtype=torch.bool)
            else:
                chunk = (chunk * 255).to(dtype=torch.uint8)
            im_mask[(inds,) + spatial] = chunk
        for i in range(n):
            cls_segms[labels[i]].append(im_mask[i].detach().cpu().numpy())
        return cls_segms
