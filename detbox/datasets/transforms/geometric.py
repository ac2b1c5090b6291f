"""Resize, flip and pad: the geometric transforms of every detection pipeline."""

from __future__ import annotations

import logging
import numbers
from typing import Any, Sequence

import numpy as np

from ...registry import TRANSFORMS
from ._common import format_repr, img_keys
from .functional import bbox_flip, imflip, impad, impad_to_multiple, imrescale, imresize

logger = logging.getLogger(__name__)

__all__ = ["Resize", "RandomFlip", "Pad", "SegRescale"]

_DIRECTIONS = ("horizontal", "vertical", "diagonal")


def _as_scales(img_scale: Any) -> list[tuple[int, int]] | None:
    if img_scale is None:
        return None
    scales = img_scale if isinstance(img_scale, list) else [img_scale]
    out = []
    for s in scales:
        if not (isinstance(s, (tuple, list)) and len(s) == 2
                and all(isinstance(v, numbers.Number) for v in s)):
            raise ValueError(
                f"img_scale must be a (long, short) tuple or a list of them, got {img_scale!r}"
                + (f"; did you mean {tuple(img_scale)}?" if isinstance(s, numbers.Number) else "")
            )
        out.append(tuple(s))
    return out


@TRANSFORMS.register_module()
class Resize:
    """Resize the image and its boxes to a scale chosen per image.

    The scale comes from, in order: ``results['scale']`` (set by :class:`MultiScaleFlipAug`),
    ``results['scale_factor']`` (a float), or ``img_scale``: one scale; a random scale
    between two (``multiscale_mode='range'``, long and short edges drawn separately) or
    among several (``'value'``); or ``img_scale[0]`` times a ratio drawn from
    ``ratio_range``. With ``keep_ratio`` the image is made as large as fits in
    ``(long, short)`` (``mmcv.imrescale``); otherwise it is resized to ``(w, h)`` exactly.

    Sets ``img``, ``img_shape``, ``pad_shape``, ``scale``, ``scale_idx``,
    ``scale_factor`` (``float32[4]`` = ``w, h, w, h`` scales), ``keep_ratio``; boxes are
    multiplied by ``scale_factor`` and, with ``bbox_clip_border``, clipped to the image.
    Masks (``mask_fields``) are rescaled to ``scale`` (or resized to ``img_shape``) and
    segmentation maps (``seg_fields``) resized with nearest interpolation, as v2.

    Args:
        img_scale: ``(long, short)`` (keep_ratio) or ``(w, h)``, or a list of them.
        multiscale_mode: 'range' or 'value'.
        ratio_range: ``(min, max)`` ratio applied to the single ``img_scale``.
        keep_ratio: keep the aspect ratio.
        bbox_clip_border: clip boxes to the resized image.
        backend: 'cv2' or 'pillow'.
        interpolation: 'nearest', 'bilinear', 'bicubic', 'area' or 'lanczos'.
        override: replace a ``scale``/``scale_factor`` already in ``results`` (for a second
            Resize in one pipeline).
    """

    def __init__(self, img_scale: Any = None, multiscale_mode: str = "range",
                 ratio_range: Sequence[float] | None = None, keep_ratio: bool = True,
                 bbox_clip_border: bool = True, backend: str = "cv2",
                 interpolation: str = "bilinear", override: bool = False) -> None:
        self.img_scale = _as_scales(img_scale)
        if ratio_range is not None:
            if self.img_scale is None or len(self.img_scale) != 1:
                raise ValueError("Resize: ratio_range needs exactly one img_scale")
        elif multiscale_mode not in ("value", "range"):
            raise ValueError(f"multiscale_mode must be 'value' or 'range', got "
                             f"{multiscale_mode!r}")
        self.multiscale_mode = multiscale_mode
        self.ratio_range = ratio_range
        self.keep_ratio = keep_ratio
        self.bbox_clip_border = bbox_clip_border
        self.backend = backend
        self.interpolation = interpolation
        self.override = override

    @staticmethod
    def random_select(img_scales: list[tuple]) -> tuple[tuple, int]:
        """One of ``img_scales`` at random, and its index."""
        idx = np.random.randint(len(img_scales))
        return img_scales[idx], idx

    @staticmethod
    def random_sample(img_scales: list[tuple]) -> tuple[tuple, None]:
        """A ``(long, short)`` with each edge drawn between the two scales' edges."""
        if len(img_scales) != 2:
            raise ValueError(f"multiscale_mode='range' needs exactly 2 scales, got {img_scales}")
        longs = [max(s) for s in img_scales]
        shorts = [min(s) for s in img_scales]
        long_edge = np.random.randint(min(longs), max(longs) + 1)
        short_edge = np.random.randint(min(shorts), max(shorts) + 1)
        return (long_edge, short_edge), None

    @staticmethod
    def random_sample_ratio(img_scale: tuple, ratio_range: Sequence[float]) -> tuple[tuple, None]:
        """``img_scale`` times a ratio drawn uniformly from ``ratio_range``."""
        min_ratio, max_ratio = ratio_range
        if min_ratio > max_ratio:
            raise ValueError(f"ratio_range must be (min, max), got {ratio_range}")
        ratio = np.random.random_sample() * (max_ratio - min_ratio) + min_ratio
        return (int(img_scale[0] * ratio), int(img_scale[1] * ratio)), None

    def _random_scale(self, results: dict) -> None:
        if self.img_scale is None:
            raise KeyError("Resize has no img_scale and results has no 'scale' or "
                           "'scale_factor'; set img_scale (or use Resize in MultiScaleFlipAug)")
        if self.ratio_range is not None:
            scale, idx = self.random_sample_ratio(self.img_scale[0], self.ratio_range)
        elif len(self.img_scale) == 1:
            scale, idx = self.img_scale[0], 0
        elif self.multiscale_mode == "range":
            scale, idx = self.random_sample(self.img_scale)
        else:
            scale, idx = self.random_select(self.img_scale)
        results["scale"] = scale
        results["scale_idx"] = idx

    def _resize_img(self, results: dict) -> None:
        for key in img_keys(results):
            img = results[key]
            if self.keep_ratio:
                out = imrescale(img, results["scale"], interpolation=self.interpolation,
                                backend=self.backend)
                w_scale = out.shape[1] / img.shape[1]
                h_scale = out.shape[0] / img.shape[0]
            else:
                out, w_scale, h_scale = imresize(img, results["scale"], return_scale=True,
                                                 interpolation=self.interpolation,
                                                 backend=self.backend)
            results[key] = out
            results["img_shape"] = out.shape
            results["pad_shape"] = out.shape
            results["scale_factor"] = np.array([w_scale, h_scale, w_scale, h_scale],
                                               dtype=np.float32)
            results["keep_ratio"] = self.keep_ratio

    def _resize_bboxes(self, results: dict) -> None:
        h, w = results["img_shape"][:2]
        for key in results.get("bbox_fields", []):
            bboxes = results[key] * results["scale_factor"]
            if self.bbox_clip_border:
                bboxes[:, 0::2] = np.clip(bboxes[:, 0::2], 0, w)
                bboxes[:, 1::2] = np.clip(bboxes[:, 1::2], 0, h)
            results[key] = bboxes

    def _resize_masks(self, results: dict) -> None:
        for key in results.get("mask_fields", []):
            if results[key] is None:
                continue
            if self.keep_ratio:
                results[key] = results[key].rescale(results["scale"])
            else:
                results[key] = results[key].resize(results["img_shape"][:2])

    def _resize_seg(self, results: dict) -> None:
        for key in results.get("seg_fields", []):
            if self.keep_ratio:
                results[key] = imrescale(results[key], results["scale"],
                                         interpolation="nearest", backend=self.backend)
            else:
                results[key] = imresize(results[key], results["scale"],
                                        interpolation="nearest", backend=self.backend)

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        if "scale" not in results:
            if "scale_factor" in results:
                factor = results["scale_factor"]
                if not isinstance(factor, float):
                    raise TypeError(f"Resize: results['scale_factor'] must be a float to set the "
                                    f"scale, got {factor!r}; use override=True for a second "
                                    f"Resize")
                h, w = results["img"].shape[:2]
                results["scale"] = (int(w * factor), int(h * factor))
            else:
                self._random_scale(results)
        elif not self.override:
            if "scale_factor" in results:
                raise KeyError("Resize: results has both 'scale' and 'scale_factor'; use "
                               "override=True for a second Resize")
        else:
            results.pop("scale")
            results.pop("scale_factor", None)
            self._random_scale(results)
        self._resize_img(results)
        self._resize_bboxes(results)
        self._resize_masks(results)
        self._resize_seg(results)
        return results

    def __repr__(self) -> str:
        return format_repr(self, "img_scale", "multiscale_mode", "ratio_range", "keep_ratio",
                           "bbox_clip_border", "backend", "interpolation", "override")


@TRANSFORMS.register_module()
class RandomFlip:
    """Flip the image and boxes with probability ``flip_ratio``.

    Reads ``flip``/``flip_direction`` from ``results`` when set (test-time augmentation);
    otherwise draws them and sets them. Boxes flip as ``x1' = w - x2`` (no ``- 1``); masks
    and segmentation maps flip with the image.

    Args:
        flip_ratio: probability of flipping; with a list of directions, a float is shared
            equally among them, or a list gives one probability per direction.
        direction: 'horizontal', 'vertical', 'diagonal', or a list of them.
    """

    def __init__(self, flip_ratio: float | list[float] | None = None,
                 direction: str | list[str] = "horizontal") -> None:
        if isinstance(flip_ratio, list):
            if not all(isinstance(r, float) for r in flip_ratio) or \
                    not 0 <= sum(flip_ratio) <= 1:
                raise ValueError(f"flip_ratio list must hold floats summing to at most 1, got "
                                 f"{flip_ratio}")
        elif isinstance(flip_ratio, (float, int)) and not isinstance(flip_ratio, bool):
            if not 0 <= flip_ratio <= 1:
                raise ValueError(f"flip_ratio must be in [0, 1], got {flip_ratio}")
        elif flip_ratio is not None:
            raise ValueError("flip_ratio must be None, a float, or a list of floats")
        dirs = direction if isinstance(direction, list) else [direction]
        if not isinstance(direction, (str, list)) or any(d not in _DIRECTIONS for d in dirs):
            raise ValueError(f"direction must be one of {_DIRECTIONS} or a list of them, got "
                             f"{direction!r}")
        if isinstance(flip_ratio, list) and len(flip_ratio) != len(dirs):
            raise ValueError(f"flip_ratio {flip_ratio} and direction {direction} differ in length")
        self.flip_ratio = flip_ratio
        self.direction = direction

    def bbox_flip(self, bboxes: np.ndarray, img_shape: Sequence[int], direction: str) -> np.ndarray:
        """Flip boxes ``[..., 4k]`` in an image of ``img_shape`` (see :func:`bbox_flip`)."""
        return bbox_flip(bboxes, img_shape, direction)

    def _draw(self) -> str | None:
        if self.flip_ratio is None:
            raise ValueError("RandomFlip(flip_ratio=None) only works where 'flip' is already "
                             "set (inside MultiScaleFlipAug); give flip_ratio for training")
        dirs = list(self.direction) if isinstance(self.direction, list) else [self.direction]
        choices = dirs + [None]
        if isinstance(self.flip_ratio, list):
            probs = self.flip_ratio + [1 - sum(self.flip_ratio)]
        else:
            probs = [self.flip_ratio / len(dirs)] * len(dirs) + [1 - self.flip_ratio]
        return np.random.choice(choices, p=probs)

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        if "flip" not in results:
            direction = self._draw()
            results["flip"] = direction is not None
            results.setdefault("flip_direction", direction)
        elif "flip_direction" not in results:
            default = self.direction[0] if isinstance(self.direction, list) else self.direction
            results["flip_direction"] = default if results["flip"] else None
        if results["flip"]:
            direction = results["flip_direction"]
            for key in img_keys(results):
                results[key] = imflip(results[key], direction)
            for key in results.get("bbox_fields", []):
                results[key] = bbox_flip(results[key], results["img_shape"], direction)
            for key in results.get("mask_fields", []):
                results[key] = results[key].flip(direction)
            for key in results.get("seg_fields", []):
                results[key] = imflip(results[key], direction)
        return results

    def __repr__(self) -> str:
        return format_repr(self, "flip_ratio", "direction")


@TRANSFORMS.register_module()
class Pad:
    """Pad the image at the bottom/right to a fixed size, a multiple, or a square.

    Sets ``pad_shape``, ``pad_fixed_size`` and ``pad_size_divisor``; boxes do not move;
    masks and segmentation maps are padded to ``pad_shape`` with ``pad_val['masks']`` and
    ``pad_val['seg']``.

    Args:
        size: ``(h, w)`` to pad to.
        size_divisor: pad both sides up to multiples of this.
        pad_to_square: pad to ``max(h, w)`` square (``size``/``size_divisor`` must be None).
        pad_val: ``dict(img=..., masks=..., seg=...)``, or a number for all (deprecated).
            A number for ``img`` fills only the first channel of a colour image, as
            OpenCV and mmcv do; use a tuple such as ``(114, 114, 114)`` for all channels.
    """

    def __init__(self, size: Sequence[int] | None = None, size_divisor: int | None = None,
                 pad_to_square: bool = False, pad_val: dict | float | None = None) -> None:
        if pad_val is None:
            pad_val = dict(img=0, masks=0, seg=255)
        elif isinstance(pad_val, numbers.Number):
            logger.warning("Pad: a number pad_val is deprecated; use pad_val=dict(img=%s, "
                           "masks=%s, seg=255)", pad_val, pad_val)
            pad_val = dict(img=pad_val, masks=pad_val, seg=255)
        if not isinstance(pad_val, dict):
            raise TypeError(f"pad_val must be a dict, got {pad_val!r}")
        if pad_to_square:
            if size is not None or size_divisor is not None:
                raise ValueError("Pad: size and size_divisor must be None with pad_to_square")
        elif (size is None) == (size_divisor is None):
            raise ValueError("Pad: give exactly one of size and size_divisor")
        img_val = pad_val.get("img", 0)
        if isinstance(img_val, numbers.Number) and img_val != 0:
            logger.warning("Pad: pad_val img=%s fills only the first channel of colour images "
                           "(as in MMDetection); use img=(%s, %s, %s) to fill all three",
                           img_val, img_val, img_val, img_val)
        self.size = tuple(size) if size is not None else None
        self.size_divisor = size_divisor
        self.pad_to_square = pad_to_square
        self.pad_val = pad_val

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        pad_val = self.pad_val.get("img", 0)
        size = self.size
        for key in img_keys(results):
            img = results[key]
            if self.pad_to_square:
                size = (max(img.shape[:2]),) * 2
            if size is not None:
                padded = impad(img, shape=size, pad_val=pad_val)
            else:
                padded = impad_to_multiple(img, self.size_divisor, pad_val=pad_val)
            results[key] = padded
            results["pad_shape"] = padded.shape
        results["pad_fixed_size"] = size
        results["pad_size_divisor"] = self.size_divisor
        pad_shape = results["pad_shape"][:2]
        for key in results.get("mask_fields", []):
            results[key] = results[key].pad(pad_shape, pad_val=self.pad_val.get("masks", 0))
        for key in results.get("seg_fields", []):
            results[key] = impad(results[key], shape=pad_shape,
                                 pad_val=self.pad_val.get("seg", 255))
        return results

    def __repr__(self) -> str:
        return format_repr(self, "size", "size_divisor", "pad_to_square", "pad_val")


@TRANSFORMS.register_module()
class SegRescale:
    """Rescale the segmentation maps (``seg_fields``) by ``scale_factor``, nearest (HTC).

    Args:
        scale_factor: the factor (1 leaves the maps as they are).
        backend: 'cv2' or 'pillow'.
    """

    def __init__(self, scale_factor: float = 1, backend: str = "cv2") -> None:
        self.scale_factor = scale_factor
        self.backend = backend

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        for key in results.get("seg_fields", []):
            if self.scale_factor != 1:
                results[key] = imrescale(results[key], self.scale_factor,
                                         interpolation="nearest", backend=self.backend)
        return results

    def __repr__(self) -> str:
        return format_repr(self, "scale_factor", "backend")
