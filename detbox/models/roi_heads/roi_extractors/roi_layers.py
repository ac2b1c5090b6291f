"""RoI pooling layers (mmcv's ``RoIAlign`` / ``RoIPool`` names) on ``torchvision.ops``."""

from __future__ import annotations

from torch import Tensor, nn
from torch.nn.modules.utils import _pair
from torchvision.ops import roi_align, roi_pool

from ....registry import LAYERS


@LAYERS.register_module()
class RoIAlign(nn.Module):
    """RoIAlign with mmcv's arguments.

    ``sampling_ratio=0`` samples ``ceil(roi_size / output_size)`` points per bin, as mmcv and
    torchvision both do; ``aligned=True`` shifts boxes by half a pixel (mmcv's default).

    Args:
        output_size: ``(h, w)`` or an int.
        spatial_scale: feature-map scale relative to the image (``1 / stride``).
        sampling_ratio: sample points per bin side; 0 for adaptive.
        pool_mode: only ``'avg'`` (mmcv's ``'max'`` has no torchvision kernel).
        aligned: pixel-shift boxes by -0.5 (the corrected RoIAlign).
        use_torchvision: accepted for compatibility (this is always torchvision).
    """

    def __init__(self, output_size: int | tuple[int, int], spatial_scale: float = 1.0,
                 sampling_ratio: int = 0, pool_mode: str = "avg", aligned: bool = True,
                 use_torchvision: bool = False) -> None:
        super().__init__()
        if pool_mode != "avg":
            raise NotImplementedError(f"RoIAlign pool_mode='{pool_mode}' is not supported; "
                                      "use 'avg'")
        self.output_size = _pair(output_size)
        self.spatial_scale = float(spatial_scale)
        self.sampling_ratio = int(sampling_ratio)
        self.pool_mode = pool_mode
        self.aligned = aligned

    def forward(self, input: Tensor, rois: Tensor) -> Tensor:
        """``input: Tensor[B, C, H, W]``, ``rois: Tensor[K, 5]`` -> ``Tensor[K, C, h, w]``."""
        return roi_align(input, rois.to(input.dtype), self.output_size, self.spatial_scale,
                         self.sampling_ratio, self.aligned)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(output_size={self.output_size}, spatial_scale="
                f"{self.spatial_scale}, sampling_ratio={self.sampling_ratio}, pool_mode="
                f"{self.pool_mode}, aligned={self.aligned})")


@LAYERS.register_module()
class RoIPool(nn.Module):
    """RoIPool (max pooling over quantised bins), mmcv's arguments."""

    def __init__(self, output_size: int | tuple[int, int], spatial_scale: float = 1.0) -> None:
        super().__init__()
        self.output_size = _pair(output_size)
        self.spatial_scale = float(spatial_scale)

    def forward(self, input: Tensor, rois: Tensor) -> Tensor:
        return roi_pool(input, rois.to(input.dtype), self.output_size, self.spatial_scale)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(output_size={self.output_size}, "
                f"spatial_scale={self.spatial_scale})")
