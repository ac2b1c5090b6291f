"""``BitmapMasks``: instance masks as one ``uint8[N, H, W]`` array (MMDetection v2's class).

Every operation gives the values ``mmdet.core.BitmapMasks`` gives with mmcv 1.7 (same OpenCV
calls, same rounding).

>>> m = BitmapMasks(np.zeros((2, 4, 6), np.uint8), 4, 6)
>>> m.pad((8, 8)).masks.shape, m.flip().masks.shape
((2, 8, 8), (2, 4, 6))
"""

from __future__ import annotations

from typing import Any, Sequence

import cv2
import numpy as np
import torch
from torchvision.ops import roi_align

from .base import BaseInstanceMasks
from .functional import (
    INTERPOLATIONS,
    channel_border,
    rescale_size,
    rotation_matrix,
    shear_matrix,
    translate_matrix,
    warp_masks,
)

__all__ = ["BitmapMasks"]

_FLIP_CODES = {"horizontal": 1, "vertical": 0, "diagonal": -1}


def _resize(mask: np.ndarray, size_wh: tuple[int, int], interpolation: str) -> np.ndarray:
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"interpolation {interpolation!r} is not one of {sorted(INTERPOLATIONS)}")
    return cv2.resize(mask, (int(size_wh[0]), int(size_wh[1])),
                      interpolation=INTERPOLATIONS[interpolation])


class BitmapMasks(BaseInstanceMasks):
    """Masks of ``N`` objects as a dense array.

    Args:
        masks: ``[N, H, W]`` array or a list of ``[H, W]`` arrays (any dtype; usually uint8).
        height, width: the image size the masks belong to.
    """

    def __init__(self, masks: np.ndarray | Sequence[np.ndarray], height: int,
                 width: int) -> None:
        self.height = height
        self.width = width
        if len(masks) == 0:
            self.masks = np.empty((0, height, width), dtype=np.uint8)
            return
        if not isinstance(masks, (list, tuple, np.ndarray)):
            raise TypeError(f"BitmapMasks takes an ndarray [N, H, W] or a list of [H, W] "
                            f"arrays, got {type(masks).__name__}")
        first = masks[0]
        if isinstance(masks, np.ndarray):
            if masks.ndim != 3:
                raise ValueError(f"BitmapMasks needs an [N, H, W] array, got {masks.shape}")
        elif not (isinstance(first, np.ndarray) and first.ndim == 2):
            raise ValueError("BitmapMasks needs a list of [H, W] arrays")
        self.masks = np.stack(masks).reshape(-1, height, width)

    def __getitem__(self, index: Any) -> BitmapMasks:
        return BitmapMasks(self.masks[index].reshape(-1, self.height, self.width), self.height,
                           self.width)

    def __iter__(self):
        return iter(self.masks)

    def __len__(self) -> int:
        return len(self.masks)

    def rescale(self, scale: float | Sequence[int], interpolation: str = "nearest"
                ) -> BitmapMasks:
        new_w, new_h = rescale_size((self.width, self.height), scale)
        if len(self.masks) == 0:
            return BitmapMasks(np.empty((0, new_h, new_w), dtype=np.uint8), new_h, new_w)
        out = np.stack([_resize(m, (new_w, new_h), interpolation) for m in self.masks])
        return BitmapMasks(out, *out.shape[1:])

    def resize(self, out_shape: tuple[int, int], interpolation: str = "nearest"
               ) -> BitmapMasks:
        if len(self.masks) == 0:
            return BitmapMasks(np.empty((0, *out_shape), dtype=np.uint8), *out_shape)
        out = np.stack([_resize(m, out_shape[::-1], interpolation) for m in self.masks])
        return BitmapMasks(out, *out_shape)

    def flip(self, flip_direction: str = "horizontal") -> BitmapMasks:
        if flip_direction not in _FLIP_CODES:
            raise ValueError(f"flip direction must be one of {sorted(_FLIP_CODES)}, got "
                             f"{flip_direction!r}")
        if len(self.masks) == 0:
            return BitmapMasks(self.masks, self.height, self.width)
        axes = {"horizontal": 2, "vertical": 1, "diagonal": (1, 2)}[flip_direction]
        return BitmapMasks(np.ascontiguousarray(np.flip(self.masks, axis=axes)), self.height,
                           self.width)

    def pad(self, out_shape: tuple[int, int], pad_val: int = 0) -> BitmapMasks:
        if len(self.masks) == 0:
            return BitmapMasks(np.empty((0, *out_shape), dtype=np.uint8), *out_shape)
        bottom = max(int(out_shape[0]) - self.height, 0)
        right = max(int(out_shape[1]) - self.width, 0)
        out = np.stack([cv2.copyMakeBorder(m, 0, bottom, 0, right, cv2.BORDER_CONSTANT,
                                           value=pad_val) for m in self.masks])
        return BitmapMasks(out, *out_shape)

    def crop(self, bbox: np.ndarray) -> BitmapMasks:
        if not (isinstance(bbox, np.ndarray) and bbox.ndim == 1):
            raise TypeError(f"crop needs an ndarray [x1, y1, x2, y2], got {bbox!r}")
        bbox = bbox.copy()
        bbox[0::2] = np.clip(bbox[0::2], 0, self.width)
        bbox[1::2] = np.clip(bbox[1::2], 0, self.height)
        x1, y1, x2, y2 = bbox
        w = np.maximum(x2 - x1, 1)
        h = np.maximum(y2 - y1, 1)
        if len(self.masks) == 0:
            return BitmapMasks(np.empty((0, h, w), dtype=np.uint8), h, w)
        return BitmapMasks(self.masks[:, y1:y1 + h, x1:x1 + w], h, w)

    def crop_and_resize(self, bboxes: Any, out_shape: tuple[int, int], inds: Any,
                        device: Any = "cpu", interpolation: str = "bilinear",
                        binarize: bool = True) -> BitmapMasks:
        """RoIAlign (``aligned=True``, adaptive sampling) of mask ``inds[i]`` in ``bboxes[i]``.

        ``bboxes``: ``[K, 4]`` array or tensor; the result is ``>= 0.5`` when ``binarize``.
        """
        if len(self.masks) == 0:
            return BitmapMasks(np.empty((0, *out_shape), dtype=np.uint8), *out_shape)
        if isinstance(bboxes, np.ndarray):
            bboxes = torch.from_numpy(bboxes).to(device=device)
        if isinstance(inds, np.ndarray):
            inds = torch.from_numpy(inds).to(device=device)
        num = bboxes.shape[0]
        if num == 0:
            return BitmapMasks([], *out_shape)
        batch_idx = torch.arange(num, device=device).to(dtype=bboxes.dtype)[:, None]
        rois = torch.cat([batch_idx, bboxes], dim=1).to(device=device)
        gt = torch.from_numpy(self.masks).to(device).index_select(0, inds).to(dtype=rois.dtype)
        targets = roi_align(gt[:, None], rois, tuple(out_shape), 1.0, 0, True).squeeze(1)
        out = (targets >= 0.5).cpu().numpy() if binarize else targets.cpu().numpy()
        return BitmapMasks(out, *out_shape)

    def expand(self, expanded_h: int, expanded_w: int, top: int, left: int) -> BitmapMasks:
        out = np.zeros((len(self), expanded_h, expanded_w), dtype=np.uint8)
        if len(self):
            out[:, top:top + self.height, left:left + self.width] = self.masks
        return BitmapMasks(out, expanded_h, expanded_w)

    def _warp(self, out_shape: tuple[int, int], matrix: np.ndarray, border: Any,
              interpolation: str, dtype: Any = np.uint8) -> BitmapMasks:
        if len(self.masks) == 0:
            return BitmapMasks(np.empty((0, *out_shape), dtype=dtype), *out_shape)
        out = warp_masks(self.masks, matrix, border, interpolation).astype(self.masks.dtype)
        return BitmapMasks(out, *out_shape)

    def translate(self, out_shape: tuple[int, int], offset: float,
                  direction: str = "horizontal", fill_val: Any = 0,
                  interpolation: str = "bilinear") -> BitmapMasks:
        """``mmcv.imtranslate`` of the masks (output keeps the input size)."""
        return self._warp(out_shape, translate_matrix(offset, direction),
                          channel_border(fill_val, len(self) or 1), interpolation)

    def shear(self, out_shape: tuple[int, int], magnitude: float,
              direction: str = "horizontal", border_value: Any = 0,
              interpolation: str = "bilinear") -> BitmapMasks:
        """``mmcv.imshear`` of the masks."""
        return self._warp(out_shape, shear_matrix(magnitude, direction),
                          channel_border(border_value, len(self) or 1), interpolation)

    def rotate(self, out_shape: tuple[int, int], angle: float,
               center: tuple[float, float] | None = None, scale: float = 1.0,
               fill_val: Any = 0) -> BitmapMasks:
        """``mmcv.imrotate`` (bilinear) of the masks; ``center`` defaults to the middle."""
        if center is None:
            center = ((self.width - 1) * 0.5, (self.height - 1) * 0.5)
        return self._warp(out_shape, rotation_matrix(center, angle, scale), fill_val,
                          "bilinear", dtype=self.masks.dtype)

    @property
    def areas(self) -> np.ndarray:
        return self.masks.sum((1, 2))

    def to_ndarray(self) -> np.ndarray:
        return self.masks

    def to_tensor(self, dtype: torch.dtype, device: Any) -> torch.Tensor:
        return torch.tensor(self.masks, dtype=dtype, device=device)

    def get_bboxes(self) -> np.ndarray:
        """Tight boxes ``[x_min, y_min, x_max + 1, y_max + 1]``; zeros for empty masks."""
        boxes = np.zeros((len(self), 4), dtype=np.float32)
        x_any = self.masks.any(axis=1)
        y_any = self.masks.any(axis=2)
        for i in range(len(self)):
            x = np.where(x_any[i])[0]
            y = np.where(y_any[i])[0]
            if len(x) and len(y):
                boxes[i] = [x[0], y[0], x[-1] + 1, y[-1] + 1]
        return boxes

    @classmethod
    def random(cls, num_masks: int = 3, height: int = 32, width: int = 32,
               dtype: Any = np.uint8, rng: np.random.RandomState | None = None) -> BitmapMasks:
        """Random masks (about 90% foreground) for tests and demos."""
        rng = rng if rng is not None else np.random.RandomState()
        return cls((rng.rand(num_masks, height, width) > 0.1).astype(dtype), height, width)
