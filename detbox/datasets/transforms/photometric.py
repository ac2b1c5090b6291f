"""Colour transforms: ``Normalize``, ``PhotoMetricDistortion`` (SSD), ``YOLOXHSVRandomAug``."""

from __future__ import annotations

from typing import Any, Sequence

import cv2
import numpy as np

from ...registry import TRANSFORMS
from ._common import format_repr, img_keys
from .functional import imnormalize

__all__ = ["Normalize", "PhotoMetricDistortion", "YOLOXHSVRandomAug"]


@TRANSFORMS.register_module()
class Normalize:
    """``(img - mean) / std`` in float32, after BGR->RGB when ``to_rgb``; sets ``img_norm_cfg``.

    Bit-identical to ``mmcv.imnormalize`` (see :func:`~.functional.imnormalize`).

    Args:
        mean: per-channel mean, in the output channel order.
        std: per-channel standard deviation.
        to_rgb: convert BGR to RGB first.
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float], to_rgb: bool = True) -> None:
        self.mean = np.array(mean, dtype=np.float32)
        self.std = np.array(std, dtype=np.float32)
        self.to_rgb = to_rgb

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        for key in img_keys(results):
            results[key] = imnormalize(results[key], self.mean, self.std, self.to_rgb)
        results["img_norm_cfg"] = dict(mean=self.mean, std=self.std, to_rgb=self.to_rgb)
        return results

    def __repr__(self) -> str:
        return (f"Normalize(mean={self.mean.tolist()}, std={self.std.tolist()}, "
                f"to_rgb={self.to_rgb})")


@TRANSFORMS.register_module()
class PhotoMetricDistortion:
    """SSD's random brightness, contrast, saturation, hue and channel swap (float32 output).

    Each step happens with probability 1/2, in this order: brightness; contrast (here or
    after the HSV steps, chosen at random); saturation; hue; contrast; channel permutation.

    Args:
        brightness_delta: added value drawn in ``[-delta, delta]``.
        contrast_range: multiplier range.
        saturation_range: saturation multiplier range.
        hue_delta: hue shift range in degrees.
    """

    def __init__(self, brightness_delta: float = 32,
                 contrast_range: Sequence[float] = (0.5, 1.5),
                 saturation_range: Sequence[float] = (0.5, 1.5), hue_delta: float = 18) -> None:
        self.brightness_delta = brightness_delta
        self.contrast_lower, self.contrast_upper = contrast_range
        self.saturation_lower, self.saturation_upper = saturation_range
        self.hue_delta = hue_delta

    def _contrast(self, img: np.ndarray) -> None:
        if np.random.randint(2):
            img *= np.random.uniform(self.contrast_lower, self.contrast_upper)

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        if results.get("img_fields", ["img"]) != ["img"]:
            raise ValueError("PhotoMetricDistortion supports a single image field ('img')")
        img = results["img"].astype(np.float32)
        if np.random.randint(2):
            img += np.random.uniform(-self.brightness_delta, self.brightness_delta)
        contrast_first = np.random.randint(2) == 1
        if contrast_first:
            self._contrast(img)
        img = cv2.cvtColor(img, cv2.COLOR_BGR2HSV)
        if np.random.randint(2):
            img[..., 1] *= np.random.uniform(self.saturation_lower, self.saturation_upper)
        if np.random.randint(2):
            img[..., 0] += np.random.uniform(-self.hue_delta, self.hue_delta)
            img[..., 0][img[..., 0] > 360] -= 360
            img[..., 0][img[..., 0] < 0] += 360
        img = cv2.cvtColor(img, cv2.COLOR_HSV2BGR)
        if not contrast_first:
            self._contrast(img)
        if np.random.randint(2):
            img = img[..., np.random.permutation(3)]
        results["img"] = img
        return results

    def __repr__(self) -> str:
        return (f"PhotoMetricDistortion(brightness_delta={self.brightness_delta}, "
                f"contrast_range={(self.contrast_lower, self.contrast_upper)}, "
                f"saturation_range={(self.saturation_lower, self.saturation_upper)}, "
                f"hue_delta={self.hue_delta})")


@TRANSFORMS.register_module()
class YOLOXHSVRandomAug:
    """YOLOX's HSV jitter on a uint8 image (in place): each gain is drawn in ``[-d, d]``.

    Args:
        hue_delta: hue gain bound (OpenCV hue units, 0-180).
        saturation_delta: saturation gain bound.
        value_delta: value gain bound.
    """

    def __init__(self, hue_delta: int = 5, saturation_delta: int = 30,
                 value_delta: int = 30) -> None:
        self.hue_delta = hue_delta
        self.saturation_delta = saturation_delta
        self.value_delta = value_delta

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        img = results["img"]
        gains = np.random.uniform(-1, 1, 3) * [self.hue_delta, self.saturation_delta,
                                               self.value_delta]
        gains *= np.random.randint(0, 2, 3)
        gains = gains.astype(np.int16)
        hsv = cv2.cvtColor(img, cv2.COLOR_BGR2HSV).astype(np.int16)
        hsv[..., 0] = (hsv[..., 0] + gains[0]) % 180
        hsv[..., 1] = np.clip(hsv[..., 1] + gains[1], 0, 255)
        hsv[..., 2] = np.clip(hsv[..., 2] + gains[2], 0, 255)
        if not (img.flags.c_contiguous and img.flags.writeable):
            img = np.ascontiguousarray(img)
        cv2.cvtColor(hsv.astype(img.dtype), cv2.COLOR_HSV2BGR, dst=img)
        results["img"] = img
        return results

    def __repr__(self) -> str:
        return format_repr(self, "hue_delta", "saturation_delta", "value_delta")
