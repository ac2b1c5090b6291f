"""Cropping and erasing: ``RandomCrop``, ``MinIoURandomCrop`` (SSD) and ``CutOut``."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ...registry import TRANSFORMS
from ._common import format_repr, img_keys
from .functional import bbox_overlaps_np

__all__ = ["RandomCrop", "MinIoURandomCrop", "CutOut"]

# Box keys and the label / mask keys that follow them when boxes are dropped.
BBOX2LABEL = {"gt_bboxes": "gt_labels", "gt_bboxes_ignore": "gt_labels_ignore"}
BBOX2MASK = {"gt_bboxes": "gt_masks", "gt_bboxes_ignore": "gt_masks_ignore"}


@TRANSFORMS.register_module()
class RandomCrop:
    """Crop a random window; boxes are shifted, clipped, and dropped when they leave it.

    ``crop_size`` is ``(h, w)``: 'absolute' pixels (capped at the image size),
    'absolute_range' ``(min, max)`` pixels drawn per side, 'relative' fractions, or
    'relative_range' fractions drawn in ``[crop_size, 1]``. With no ground-truth box left
    (and ``allow_negative_crop=False``) the sample is dropped (``None``). Masks of kept
    boxes and segmentation maps are cropped to the window.

    Args:
        crop_size: see above.
        crop_type: 'absolute', 'absolute_range', 'relative' or 'relative_range'.
        allow_negative_crop: keep crops without any ground-truth box.
        recompute_bbox: recompute the kept boxes from their cropped masks.
        bbox_clip_border: clip boxes to the crop.
    """

    def __init__(self, crop_size: Sequence[float], crop_type: str = "absolute",
                 allow_negative_crop: bool = False, recompute_bbox: bool = False,
                 bbox_clip_border: bool = True) -> None:
        if crop_type not in ("relative_range", "relative", "absolute", "absolute_range"):
            raise ValueError(f"Invalid crop_type {crop_type}.")
        if crop_type in ("absolute", "absolute_range"):
            if not (crop_size[0] > 0 and crop_size[1] > 0
                    and isinstance(crop_size[0], int) and isinstance(crop_size[1], int)):
                raise ValueError(f"crop_size must be positive ints for {crop_type}, got "
                                 f"{crop_size}")
            if crop_type == "absolute_range" and crop_size[0] > crop_size[1]:
                raise ValueError(f"absolute_range crop_size must be (min, max), got {crop_size}")
        elif not (0 < crop_size[0] <= 1 and 0 < crop_size[1] <= 1):
            raise ValueError(f"crop_size must be in (0, 1] for {crop_type}, got {crop_size}")
        self.crop_size = tuple(crop_size)
        self.crop_type = crop_type
        self.allow_negative_crop = allow_negative_crop
        self.recompute_bbox = recompute_bbox
        self.bbox_clip_border = bbox_clip_border

    def _get_crop_size(self, image_size: tuple[int, int]) -> tuple[int, int]:
        h, w = image_size
        c = self.crop_size
        if self.crop_type == "absolute":
            return min(c[0], h), min(c[1], w)
        if self.crop_type == "absolute_range":
            crop_h = np.random.randint(min(h, c[0]), min(h, c[1]) + 1)
            crop_w = np.random.randint(min(w, c[0]), min(w, c[1]) + 1)
            return crop_h, crop_w
        if self.crop_type == "relative":
            return int(h * c[0] + 0.5), int(w * c[1] + 0.5)
        size = np.asarray(c, dtype=np.float32)
        crop_h, crop_w = size + np.random.rand(2) * (1 - size)
        return int(h * crop_h + 0.5), int(w * crop_w + 0.5)

    def _crop_data(self, results: dict, crop_size: tuple[int, int],
                   allow_negative_crop: bool) -> dict | None:
        for key in img_keys(results):
            img = results[key]
            margin_h = max(img.shape[0] - crop_size[0], 0)
            margin_w = max(img.shape[1] - crop_size[1], 0)
            offset_h = np.random.randint(0, margin_h + 1)
            offset_w = np.random.randint(0, margin_w + 1)
            img = img[offset_h:offset_h + crop_size[0], offset_w:offset_w + crop_size[1], ...]
            results[key] = img
            img_shape = img.shape
        results["img_shape"] = img_shape
        offset = np.array([offset_w, offset_h, offset_w, offset_h], dtype=np.float32)
        for key in results.get("bbox_fields", []):
            bboxes = results[key] - offset
            if self.bbox_clip_border:
                bboxes[:, 0::2] = np.clip(bboxes[:, 0::2], 0, img_shape[1])
                bboxes[:, 1::2] = np.clip(bboxes[:, 1::2], 0, img_shape[0])
            valid = (bboxes[:, 2] > bboxes[:, 0]) & (bboxes[:, 3] > bboxes[:, 1])
            if key == "gt_bboxes" and not valid.any() and not allow_negative_crop:
                return None
            results[key] = bboxes[valid, :]
            label_key = BBOX2LABEL.get(key)
            if label_key in results:
                results[label_key] = results[label_key][valid]
            mask_key = BBOX2MASK.get(key)
            if mask_key in results:
                window = np.asarray([offset_w, offset_h, offset_w + crop_size[1],
                                     offset_h + crop_size[0]])
                results[mask_key] = results[mask_key][valid.nonzero()[0]].crop(window)
                if self.recompute_bbox:
                    results[key] = results[mask_key].get_bboxes()
        for key in results.get("seg_fields", []):
            results[key] = results[key][offset_h:offset_h + crop_size[0],
                                        offset_w:offset_w + crop_size[1]]
        return results

    def __call__(self, results: dict[str, Any]) -> dict[str, Any] | None:
        crop_size = self._get_crop_size(results["img"].shape[:2])
        return self._crop_data(results, crop_size, self.allow_negative_crop)

    def __repr__(self) -> str:
        return format_repr(self, "crop_size", "crop_type", "allow_negative_crop",
                           "recompute_bbox", "bbox_clip_border")


@TRANSFORMS.register_module()
class MinIoURandomCrop:
    """SSD's crop: a random patch whose IoU with every box is at least a drawn threshold.

    A mode is drawn from ``(1, *min_ious, 0)`` (1 keeps the image); up to 50 patches of
    ``[min_crop_size, 1]`` times the image (aspect ``h / w`` in ``[0.5, 2]``) are tried;
    boxes whose centres fall outside the patch are dropped (with their masks); masks and
    segmentation maps are cropped to the patch.

    Args:
        min_ious: IoU thresholds to draw from.
        min_crop_size: minimum patch side as a fraction of the image side.
        bbox_clip_border: clip kept boxes to the patch.
    """

    def __init__(self, min_ious: Sequence[float] = (0.1, 0.3, 0.5, 0.7, 0.9),
                 min_crop_size: float = 0.3, bbox_clip_border: bool = True) -> None:
        self.min_ious = tuple(min_ious)
        self.sample_mode = (1, *self.min_ious, 0)
        self.min_crop_size = min_crop_size
        self.bbox_clip_border = bbox_clip_border

    @staticmethod
    def _centers_inside(boxes: np.ndarray, patch: np.ndarray) -> np.ndarray:
        center = (boxes[:, :2] + boxes[:, 2:]) / 2
        return ((center[:, 0] > patch[0]) & (center[:, 1] > patch[1])
                & (center[:, 0] < patch[2]) & (center[:, 1] < patch[3]))

    def _try_patch(self, w: int, h: int, min_iou: float, boxes: np.ndarray) -> np.ndarray | None:
        new_w = np.random.uniform(self.min_crop_size * w, w)
        new_h = np.random.uniform(self.min_crop_size * h, h)
        if new_h / new_w < 0.5 or new_h / new_w > 2:
            return None
        # MMDetection draws uniform(low=w - new_w) with the default high=1.0; kept as is so
        # the same seed gives the same crops.
        left = np.random.uniform(w - new_w)
        top = np.random.uniform(h - new_h)
        patch = np.array((int(left), int(top), int(left + new_w), int(top + new_h)))
        if patch[2] == patch[0] or patch[3] == patch[1]:
            return None
        overlaps = bbox_overlaps_np(patch.reshape(-1, 4), boxes).reshape(-1)
        if len(overlaps) > 0 and overlaps.min() < min_iou:
            return None
        if len(overlaps) > 0 and not self._centers_inside(boxes, patch).any():
            return None
        return patch

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        if results.get("img_fields", ["img"]) != ["img"]:
            raise ValueError("MinIoURandomCrop supports a single image field ('img')")
        img = results["img"]
        fields = results.get("bbox_fields", [])
        boxes = np.concatenate([results[k] for k in fields], 0) if fields \
            else np.zeros((0, 4), np.float32)
        h, w = img.shape[:2]
        while True:
            mode = np.random.choice(self.sample_mode)
            self.mode = mode
            if mode == 1:
                return results
            for _ in range(50):
                patch = self._try_patch(w, h, mode, boxes)
                if patch is None:
                    continue
                if len(boxes) > 0:
                    for key in fields:
                        b = results[key].copy()
                        keep = self._centers_inside(b, patch)
                        b = b[keep]
                        if self.bbox_clip_border:
                            b[:, 2:] = b[:, 2:].clip(max=patch[2:])
                            b[:, :2] = b[:, :2].clip(min=patch[:2])
                        b -= np.tile(patch[:2], 2)
                        results[key] = b
                        label_key = BBOX2LABEL.get(key)
                        if label_key in results:
                            results[label_key] = results[label_key][keep]
                        mask_key = BBOX2MASK.get(key)
                        if mask_key in results:
                            results[mask_key] = results[mask_key][keep.nonzero()[0]].crop(patch)
                img = img[patch[1]:patch[3], patch[0]:patch[2]]
                results["img"] = img
                results["img_shape"] = img.shape
                for key in results.get("seg_fields", []):
                    results[key] = results[key][patch[1]:patch[3], patch[0]:patch[2]]
                return results

    def __repr__(self) -> str:
        return format_repr(self, "min_ious", "min_crop_size", "bbox_clip_border")


@TRANSFORMS.register_module()
class CutOut:
    """Fill random rectangles of the image with ``fill_in`` (boxes are unchanged).

    Args:
        n_holes: number of holes, or a ``(min, max)`` range.
        cutout_shape: ``(w, h)`` in pixels, or a list to choose from.
        cutout_ratio: ``(w, h)`` as fractions of the image, or a list (instead of shape).
        fill_in: the fill value(s).
    """

    def __init__(self, n_holes: int | tuple[int, int], cutout_shape: Any = None,
                 cutout_ratio: Any = None, fill_in: Sequence[float] | float = (0, 0, 0)) -> None:
        if (cutout_shape is None) == (cutout_ratio is None):
            raise ValueError("Either cutout_shape or cutout_ratio should be specified.")
        if not isinstance(cutout_shape if cutout_ratio is None else cutout_ratio, (list, tuple)):
            raise TypeError("cutout_shape/cutout_ratio must be a tuple or a list of tuples")
        if isinstance(n_holes, tuple):
            if not (len(n_holes) == 2 and 0 <= n_holes[0] < n_holes[1]):
                raise ValueError(f"n_holes range must be (min, max) with min < max, got {n_holes}")
        else:
            n_holes = (n_holes, n_holes)
        self.n_holes = n_holes
        self.fill_in = fill_in
        self.with_ratio = cutout_ratio is not None
        candidates = cutout_ratio if self.with_ratio else cutout_shape
        self.candidates = candidates if isinstance(candidates, list) else [candidates]

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        h, w = results["img"].shape[:2]
        n_holes = np.random.randint(self.n_holes[0], self.n_holes[1] + 1)
        for _ in range(n_holes):
            x1 = np.random.randint(0, w)
            y1 = np.random.randint(0, h)
            index = np.random.randint(0, len(self.candidates))
            if not self.with_ratio:
                cutout_w, cutout_h = self.candidates[index]
            else:
                cutout_w = int(self.candidates[index][0] * w)
                cutout_h = int(self.candidates[index][1] * h)
            x2 = np.clip(x1 + cutout_w, 0, w)
            y2 = np.clip(y1 + cutout_h, 0, h)
            results["img"][y1:y2, x1:x2, :] = self.fill_in
        return results

    def __repr__(self) -> str:
        kind = "cutout_ratio" if self.with_ratio else "cutout_shape"
        return (f"CutOut(n_holes={self.n_holes!r}, {kind}={self.candidates!r}, "
                f"fill_in={self.fill_in!r})")
