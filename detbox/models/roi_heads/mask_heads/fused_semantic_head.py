"""``FusedSemanticHead``: HTC's semantic segmentation branch over all FPN levels."""

from __future__ import annotations

import copy
import warnings
from typing import Any, Sequence

import torch.nn.functional as F
from torch import Tensor, nn

from ....registry import MODELS
from ...base_module import BaseModule
from ...layers import ConvModule
from ...utils import force_fp32

_DEFAULT_INIT = dict(type="Kaiming", override=dict(name="conv_logits"))


@MODELS.register_module()
class FusedSemanticHead(BaseModule):
    """Multi-level fused semantic head.

    Every level goes through a 1x1 lateral conv and is resized (bilinear,
    ``align_corners=True``) to the ``fusion_level`` and summed; then ``num_convs`` 3x3 convs,
    a 1x1 ``conv_logits`` (``num_classes`` maps) and a 1x1 ``conv_embedding`` (the semantic
    feature fused into the RoI features).

    Args:
        num_ins: number of input levels.
        fusion_level: level whose size the output has.
        num_convs: number of 3x3 convs.
        in_channels / conv_out_channels: channels.
        num_classes: semantic classes.
        conv_cfg / norm_cfg: of the convs.
        ignore_label / loss_weight: deprecated overrides of ``loss_seg``.
        loss_seg: segmentation loss config.
        init_cfg: initialisation config.
    """

    def __init__(self, num_ins: int, fusion_level: int, num_convs: int = 4,
                 in_channels: int = 256, conv_out_channels: int = 256, num_classes: int = 183,
                 conv_cfg: dict | None = None, norm_cfg: dict | None = None,
                 ignore_label: int | None = None, loss_weight: float | None = None,
                 loss_seg: dict | None = None,
                 init_cfg: Any = _DEFAULT_INIT) -> None:
        super().__init__(copy.deepcopy(init_cfg))
        self.num_ins = num_ins
        self.fusion_level = fusion_level
        self.num_convs = num_convs
        self.in_channels = in_channels
        self.conv_out_channels = conv_out_channels
        self.num_classes = num_classes
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        self.fp16_enabled = False
        self.lateral_convs = nn.ModuleList(
            ConvModule(in_channels, in_channels, 1, conv_cfg=conv_cfg, norm_cfg=norm_cfg,
                       inplace=False) for _ in range(num_ins))
        self.convs = nn.ModuleList(
            ConvModule(in_channels if i == 0 else conv_out_channels, conv_out_channels, 3,
                       padding=1, conv_cfg=conv_cfg, norm_cfg=norm_cfg)
            for i in range(num_convs))
        self.conv_embedding = ConvModule(conv_out_channels, conv_out_channels, 1,
                                         conv_cfg=conv_cfg, norm_cfg=norm_cfg)
        self.conv_logits = nn.Conv2d(conv_out_channels, num_classes, 1)
        loss_seg = dict(loss_seg or dict(type="CrossEntropyLoss", ignore_index=255,
                                         loss_weight=0.2))
        if ignore_label:
            loss_seg["ignore_index"] = ignore_label
        if loss_weight:
            loss_seg["loss_weight"] = loss_weight
        if ignore_label or loss_weight:
            warnings.warn("FusedSemanticHead: ignore_label and loss_weight are deprecated; set "
                          "ignore_index and loss_weight in loss_seg", stacklevel=2)
        self.criterion = MODELS.build(loss_seg)

    def forward(self, feats: Sequence[Tensor]) -> tuple[Tensor, Tensor]:
        """``(mask_pred[B, classes, h, w], semantic_feat[B, C, h, w])`` at the fusion level."""
        x = self.lateral_convs[self.fusion_level](feats[self.fusion_level])
        fused_size = tuple(x.shape[-2:])
        for i, feat in enumerate(feats):
            if i != self.fusion_level:
                feat = F.interpolate(feat, size=fused_size, mode="bilinear", align_corners=True)
                x = x + self.lateral_convs[i](feat)
        for conv in self.convs:
            x = conv(x)
        mask_pred = self.conv_logits(x)
        return mask_pred, self.conv_embedding(x)

    @force_fp32
    def loss(self, mask_pred: Tensor, labels: Tensor) -> Tensor:
        """Cross-entropy against ``labels: Tensor[B, 1, h, w]`` (``ignore_index`` skipped)."""
        return self.criterion(mask_pred, labels.squeeze(1).long())
