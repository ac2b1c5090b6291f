"""``mmcv.ops``: the operators detbox has, under mmcv's names (pure PyTorch and
torchvision.ops). Names resolve on first use, so operators that newer model families add are
found here too."""

from __future__ import annotations

import importlib
from typing import Any

from detbox.ops import batched_nms, nms, soft_nms

__all__ = ["nms", "batched_nms", "soft_nms", "roi_align"]  # + the lazy names of _WHERE

# name -> modules of detbox where it may live (the first that has it wins).
_WHERE: dict[str, tuple[str, ...]] = {
    "RoIAlign": ("detbox.models.roi_heads.roi_extractors.roi_layers",),
    "DeformRoIPool": ("detbox.models.roi_heads.roi_extractors.deform_roi_pool",),
    "DeformRoIPoolPack": ("detbox.models.roi_heads.roi_extractors.deform_roi_pool",),
    "ModulatedDeformRoIPoolPack": ("detbox.models.roi_heads.roi_extractors.deform_roi_pool",),
    "deform_roi_pool": ("detbox.models.roi_heads.roi_extractors.deform_roi_pool",),
    "ModulatedDeformConv2d": ("detbox.models.layers",),
    "ModulatedDeformConv2dPack": ("detbox.models.layers",),
    "modulated_deform_conv2d": ("detbox.models.layers",),
    "DeformConv2d": ("detbox.models.layers", "detbox.models.layers.deform_conv"),
    "DeformConv2dPack": ("detbox.models.layers", "detbox.models.layers.deform_conv"),
    "deform_conv2d": ("detbox.models.layers", "detbox.models.layers.deform_conv"),
    "bbox_overlaps": ("detbox.ops",),
    "CornerPool": ("detbox.models.layers", "detbox.models.layers.corner_pool"),
    "MaskedConv2d": ("detbox.models.layers", "detbox.models.layers.masked_conv"),
    "MultiScaleDeformableAttention": ("detbox.models.layers.transformer",),
    "sigmoid_focal_loss": ("detbox.models.losses.focal_loss",),
    "point_sample": ("detbox.models.layers", "detbox.models.layers.point_sample"),
}


def roi_align(input: Any, rois: Any, output_size: Any, spatial_scale: float = 1.0,
              sampling_ratio: int = 0, pool_mode: str = "avg", aligned: bool = True) -> Any:
    """mmcv's functional ``roi_align`` (rois ``[K, 5]`` = batch index, x1, y1, x2, y2)."""
    layer = __getattr__("RoIAlign")(output_size, spatial_scale, sampling_ratio, pool_mode,
                                    aligned)
    return layer(input, rois)


def __getattr__(name: str) -> Any:
    for module in _WHERE.get(name, ()):
        try:
            value = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            continue
        globals()[name] = value
        return value
    # ``mmcv.ops.X`` (the alias module) turns this into an error naming what is missing.
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
