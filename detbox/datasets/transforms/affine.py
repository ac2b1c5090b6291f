"""Canvas-moving transforms: ``RandomAffine`` (YOLOX), ``RandomShift`` and ``Expand`` (SSD)."""

from __future__ import annotations

import math
from typing import Any, Sequence

import cv2
import numpy as np

from ...registry import TRANSFORMS
from ._common import check_no_masks, format_repr, img_keys
from .cropping import BBOX2LABEL
from .functional import find_inside_bboxes

__all__ = ["RandomAffine", "RandomShift", "Expand"]


def _matrix(rows: list[list[float]]) -> np.ndarray:
    return np.array(rows, dtype=np.float32)


@TRANSFORMS.register_module()
class RandomAffine:
    """YOLOX's random rotation, scaling, shear and translation with one perspective warp.

    The warp is ``translate @ shear @ rotate @ scale`` on an output of the image size plus
    ``2 * border``; boxes become the bounds of their warped corners, are clipped, and those
    entirely outside are dropped (and, unless ``skip_filter``, those too small, shrunk or
    elongated).

    Args:
        max_rotate_degree: rotation drawn in ``[-max, max]`` degrees.
        max_translate_ratio: translation drawn in ``[-max, max]`` times the output size.
        scaling_ratio_range: ``(min, max)`` scale.
        max_shear_degree: shear drawn in ``[-max, max]`` degrees on each axis.
        border: ``(h, w)`` added on each side of the output.
        border_val: fill of the uncovered area (BGR).
        min_bbox_size, min_area_ratio, max_aspect_ratio: box filters (see ``skip_filter``).
        bbox_clip_border: clip boxes to the output.
        skip_filter: skip the three box filters above.
    """

    def __init__(self, max_rotate_degree: float = 10.0, max_translate_ratio: float = 0.1,
                 scaling_ratio_range: Sequence[float] = (0.5, 1.5),
                 max_shear_degree: float = 2.0, border: Sequence[int] = (0, 0),
                 border_val: Sequence[int] = (114, 114, 114), min_bbox_size: float = 2,
                 min_area_ratio: float = 0.2, max_aspect_ratio: float = 20,
                 bbox_clip_border: bool = True, skip_filter: bool = True) -> None:
        if not 0 <= max_translate_ratio <= 1:
            raise ValueError(f"max_translate_ratio must be in [0, 1], got {max_translate_ratio}")
        if not 0 < scaling_ratio_range[0] <= scaling_ratio_range[1]:
            raise ValueError(f"scaling_ratio_range must be (min, max) > 0, got "
                             f"{scaling_ratio_range}")
        self.max_rotate_degree = max_rotate_degree
        self.max_translate_ratio = max_translate_ratio
        self.scaling_ratio_range = tuple(scaling_ratio_range)
        self.max_shear_degree = max_shear_degree
        self.border = tuple(border)
        self.border_val = tuple(border_val)
        self.min_bbox_size = min_bbox_size
        self.min_area_ratio = min_area_ratio
        self.max_aspect_ratio = max_aspect_ratio
        self.bbox_clip_border = bbox_clip_border
        self.skip_filter = skip_filter

    @staticmethod
    def _get_rotation_matrix(degrees: float) -> np.ndarray:
        r = math.radians(degrees)
        return _matrix([[np.cos(r), -np.sin(r), 0.0], [np.sin(r), np.cos(r), 0.0],
                        [0.0, 0.0, 1.0]])

    @staticmethod
    def _get_scaling_matrix(ratio: float) -> np.ndarray:
        return _matrix([[ratio, 0.0, 0.0], [0.0, ratio, 0.0], [0.0, 0.0, 1.0]])

    @staticmethod
    def _get_shear_matrix(x_degrees: float, y_degrees: float) -> np.ndarray:
        x, y = math.radians(x_degrees), math.radians(y_degrees)
        return _matrix([[1, np.tan(x), 0.0], [np.tan(y), 1, 0.0], [0.0, 0.0, 1.0]])

    @staticmethod
    def _get_translation_matrix(x: float, y: float) -> np.ndarray:
        return _matrix([[1, 0.0, x], [0.0, 1, y], [0.0, 0.0, 1.0]])

    def filter_gt_bboxes(self, origin_bboxes: np.ndarray, wrapped_bboxes: np.ndarray) -> np.ndarray:
        """``bool[N]``: warped boxes large enough, not shrunk too much and not too elongated."""
        ow = origin_bboxes[:, 2] - origin_bboxes[:, 0]
        oh = origin_bboxes[:, 3] - origin_bboxes[:, 1]
        ww = wrapped_bboxes[:, 2] - wrapped_bboxes[:, 0]
        wh = wrapped_bboxes[:, 3] - wrapped_bboxes[:, 1]
        aspect = np.maximum(ww / (wh + 1e-16), wh / (ww + 1e-16))
        return ((ww > self.min_bbox_size) & (wh > self.min_bbox_size)
                & (ww * wh / (ow * oh + 1e-16) > self.min_area_ratio)
                & (aspect < self.max_aspect_ratio))

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        check_no_masks(results, "RandomAffine")
        img = results["img"]
        height = img.shape[0] + self.border[0] * 2
        width = img.shape[1] + self.border[1] * 2
        rot = self._get_rotation_matrix(
            np.random.uniform(-self.max_rotate_degree, self.max_rotate_degree))
        scaling_ratio = np.random.uniform(*self.scaling_ratio_range)
        scale = self._get_scaling_matrix(scaling_ratio)
        shear = self._get_shear_matrix(
            np.random.uniform(-self.max_shear_degree, self.max_shear_degree),
            np.random.uniform(-self.max_shear_degree, self.max_shear_degree))
        trans_x = np.random.uniform(-self.max_translate_ratio, self.max_translate_ratio) * width
        trans_y = np.random.uniform(-self.max_translate_ratio, self.max_translate_ratio) * height
        warp = self._get_translation_matrix(trans_x, trans_y) @ shear @ rot @ scale
        img = cv2.warpPerspective(img, warp, dsize=(width, height), borderValue=self.border_val)
        results["img"] = img
        results["img_shape"] = img.shape
        for key in results.get("bbox_fields", []):
            bboxes = results[key]
            n = len(bboxes)
            if not n:
                continue
            xs = bboxes[:, [0, 0, 2, 2]].reshape(n * 4)
            ys = bboxes[:, [1, 3, 3, 1]].reshape(n * 4)
            points = warp @ np.vstack([xs, ys, np.ones_like(xs)])  # [3, 4N]
            points = points[:2] / points[2]
            xs = points[0].reshape(n, 4)
            ys = points[1].reshape(n, 4)
            warped = np.vstack((xs.min(1), ys.min(1), xs.max(1), ys.max(1))).T
            if self.bbox_clip_border:
                warped[:, [0, 2]] = warped[:, [0, 2]].clip(0, width)
                warped[:, [1, 3]] = warped[:, [1, 3]].clip(0, height)
            valid = find_inside_bboxes(warped, height, width)
            if not self.skip_filter:
                valid = valid & self.filter_gt_bboxes(bboxes * scaling_ratio, warped)
            results[key] = warped[valid]
            if key == "gt_bboxes" and "gt_labels" in results:
                results["gt_labels"] = results["gt_labels"][valid]
        return results

    def __repr__(self) -> str:
        return format_repr(self, "max_rotate_degree", "max_translate_ratio",
                           "scaling_ratio_range", "max_shear_degree", "border", "border_val",
                           "min_bbox_size", "min_area_ratio", "max_aspect_ratio",
                           "bbox_clip_border", "skip_filter")


@TRANSFORMS.register_module()
class RandomShift:
    """With probability ``shift_ratio``, shift the image by up to ``max_shift_px`` pixels.

    Boxes move with it, are clipped, and those not wider and taller than ``filter_thr_px``
    are dropped; if no ground-truth box would be left the image is not shifted.

    Args:
        shift_ratio: probability of shifting.
        max_shift_px: largest shift in each direction.
        filter_thr_px: minimum box side kept.
    """

    def __init__(self, shift_ratio: float = 0.5, max_shift_px: int = 32,
                 filter_thr_px: int = 1) -> None:
        if not 0 <= shift_ratio <= 1 or max_shift_px < 0:
            raise ValueError("RandomShift needs 0 <= shift_ratio <= 1 and max_shift_px >= 0")
        self.shift_ratio = shift_ratio
        self.max_shift_px = max_shift_px
        self.filter_thr_px = int(filter_thr_px)

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        check_no_masks(results, "RandomShift")
        if np.random.random() >= self.shift_ratio:
            return results
        img_h, img_w = results["img"].shape[:2]
        dx = np.random.randint(-self.max_shift_px, self.max_shift_px)
        dy = np.random.randint(-self.max_shift_px, self.max_shift_px)
        for key in results.get("bbox_fields", []):
            bboxes = results[key].copy()
            bboxes[..., 0::2] += dx
            bboxes[..., 1::2] += dy
            bboxes[..., 0::2] = np.clip(bboxes[..., 0::2], 0, img_w)
            bboxes[..., 1::2] = np.clip(bboxes[..., 1::2], 0, img_h)
            valid = ((bboxes[..., 2] - bboxes[..., 0] > self.filter_thr_px)
                     & (bboxes[..., 3] - bboxes[..., 1] > self.filter_thr_px))
            if key == "gt_bboxes" and not valid.any():
                return results
            results[key] = bboxes[valid]
            label_key = BBOX2LABEL.get(key)
            if label_key in results:
                results[label_key] = results[label_key][valid]
        new_x, ori_x = max(0, dx), max(0, -dx)
        new_y, ori_y = max(0, dy), max(0, -dy)
        new_h, new_w = img_h - abs(dy), img_w - abs(dx)
        for key in img_keys(results):
            img = results[key]
            shifted = np.zeros_like(img)
            shifted[new_y:new_y + new_h, new_x:new_x + new_w] = \
                img[ori_y:ori_y + new_h, ori_x:ori_x + new_w]
            results[key] = shifted
        return results

    def __repr__(self) -> str:
        return format_repr(self, "shift_ratio", "max_shift_px", "filter_thr_px")


@TRANSFORMS.register_module()
class Expand:
    """SSD's zoom-out: with probability ``prob``, place the image on a larger mean canvas.

    Args:
        mean: canvas fill, in the order of ``Normalize``'s mean (RGB when ``to_rgb``).
        to_rgb: ``mean`` is RGB (reversed to fill the BGR image).
        ratio_range: ``(min, max)`` canvas size ratio.
        seg_ignore_label: fill of segmentation maps outside the image.
        prob: probability of expanding.
    """

    def __init__(self, mean: Sequence[float] = (0, 0, 0), to_rgb: bool = True,
                 ratio_range: Sequence[float] = (1, 4), seg_ignore_label: int | None = None,
                 prob: float = 0.5) -> None:
        self.to_rgb = to_rgb
        self.ratio_range = tuple(ratio_range)
        self.input_mean = tuple(mean)
        self.mean = tuple(mean)[::-1] if to_rgb else tuple(mean)  # the BGR fill
        self.min_ratio, self.max_ratio = ratio_range
        self.seg_ignore_label = seg_ignore_label
        self.prob = prob

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        if np.random.uniform(0, 1) > self.prob:
            return results
        if results.get("img_fields", ["img"]) != ["img"]:
            raise ValueError("Expand supports a single image field ('img')")
        img = results["img"]
        h, w, c = img.shape
        ratio = np.random.uniform(self.min_ratio, self.max_ratio)
        canvas = np.full((int(h * ratio), int(w * ratio), c), self.mean, dtype=img.dtype)
        left = int(np.random.uniform(0, w * ratio - w))
        top = int(np.random.uniform(0, h * ratio - h))
        canvas[top:top + h, left:left + w] = img
        results["img"] = canvas
        results["img_shape"] = canvas.shape  # MMDetection leaves it stale; later flips need it
        for key in results.get("bbox_fields", []):
            results[key] = results[key] + np.tile((left, top), 2).astype(results[key].dtype)
        new_h, new_w = int(h * ratio), int(w * ratio)
        for key in results.get("mask_fields", []):
            results[key] = results[key].expand(new_h, new_w, top, left)
        for key in results.get("seg_fields", []):
            seg = results[key]
            canvas = np.full((new_h, new_w), self.seg_ignore_label, dtype=seg.dtype)
            canvas[top:top + h, left:left + w] = seg
            results[key] = canvas
        return results

    def __repr__(self) -> str:
        return (f"Expand(mean={self.input_mean!r}, to_rgb={self.to_rgb!r}, "
                f"ratio_range={self.ratio_range!r}, seg_ignore_label={self.seg_ignore_label!r}, "
                f"prob={self.prob!r})")
