"""``SingleRoIExtractor``: pool each RoI from the one FPN level its size maps to."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ....registry import LAYERS, MODELS
from ...base_module import BaseModule
from ...utils import force_fp32


@MODELS.register_module()
class SingleRoIExtractor(BaseModule):
    """Extract RoI features from a single level of a feature pyramid.

    Level of a box of scale ``s = sqrt(w * h)``: ``floor(log2(s / finest_scale + 1e-6))``,
    clamped to the available levels (56 px -> level 0, 112 -> 1, ...).

    Args:
        roi_layer: ``dict(type='RoIAlign', output_size=7, sampling_ratio=0)`` and the like.
        out_channels: channels of the features.
        featmap_strides: stride of each level (one RoI layer per level).
        finest_scale: box scale mapped to the first level.
        init_cfg: initialisation config.
    """

    def __init__(self, roi_layer: dict, out_channels: int, featmap_strides: list[int],
                 finest_scale: int = 56, init_cfg: dict | list | None = None) -> None:
        super().__init__(init_cfg)
        self.roi_layers = self.build_roi_layers(roi_layer, featmap_strides)
        self.out_channels = out_channels
        self.featmap_strides = featmap_strides
        self.finest_scale = finest_scale
        self.fp16_enabled = False

    @property
    def num_inputs(self) -> int:
        """Number of feature levels the extractor reads."""
        return len(self.featmap_strides)

    @staticmethod
    def build_roi_layers(layer_cfg: dict, featmap_strides: list[int]) -> nn.ModuleList:
        """One RoI layer per level, with ``spatial_scale = 1 / stride``."""
        return nn.ModuleList(LAYERS.build({**layer_cfg, "spatial_scale": 1 / s})
                             for s in featmap_strides)

    @staticmethod
    def roi_rescale(rois: Tensor, scale_factor: float) -> Tensor:
        """Scale ``rois: Tensor[K, 5]`` (batch index, xyxy) about their centres."""
        cx = (rois[:, 1] + rois[:, 3]) * 0.5
        cy = (rois[:, 2] + rois[:, 4]) * 0.5
        w = (rois[:, 3] - rois[:, 1]) * scale_factor
        h = (rois[:, 4] - rois[:, 2]) * scale_factor
        return torch.stack((rois[:, 0], cx - w * 0.5, cy - h * 0.5, cx + w * 0.5, cy + h * 0.5),
                           dim=-1)

    def map_roi_levels(self, rois: Tensor, num_levels: int) -> Tensor:
        """Level index ``Tensor[K]`` of each RoI by its scale."""
        scale = torch.sqrt((rois[:, 3] - rois[:, 1]) * (rois[:, 4] - rois[:, 2]))
        levels = torch.floor(torch.log2(scale / self.finest_scale + 1e-6))
        return levels.clamp(min=0, max=num_levels - 1).long()

    @force_fp32
    def forward(self, feats: tuple[Tensor, ...], rois: Tensor,
                roi_scale_factor: float | None = None) -> Tensor:
        """``rois: Tensor[K, 5]`` -> features ``Tensor[K, C, h, w]``."""
        out_size = self.roi_layers[0].output_size
        num_levels = len(feats)
        roi_feats = feats[0].new_zeros(rois.size(0), self.out_channels, *out_size)
        if num_levels == 1:
            return roi_feats if len(rois) == 0 else self.roi_layers[0](feats[0], rois)
        levels = self.map_roi_levels(rois, num_levels)
        if roi_scale_factor is not None:
            rois = self.roi_rescale(rois, roi_scale_factor)
        for i in range(num_levels):
            inds = (levels == i).nonzero(as_tuple=False).squeeze(1)
            if inds.numel() > 0:
                roi_feats[inds] = self.roi_layers[i](feats[i], rois[inds]).to(roi_feats.dtype)
            elif self.training:
                # keep every level in the graph so DDP sees the same parameters on every rank
                roi_feats = roi_feats + feats[i].sum() * 0.0
        return roi_feats
