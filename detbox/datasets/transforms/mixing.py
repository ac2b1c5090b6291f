"""Multi-image transforms (YOLOX): ``Mosaic`` and ``MixUp``.

Both are used through ``MultiImageMixDataset``: it calls ``get_indexes(dataset)``, runs
the dataset's pipeline on those images and puts the results in ``results['mix_results']``.
"""

from __future__ import annotations

import logging
from typing import Any, Sequence

import numpy as np

from ...registry import TRANSFORMS
from ._common import check_no_masks, format_repr
from .functional import find_inside_bboxes, imresize

logger = logging.getLogger(__name__)

__all__ = ["Mosaic", "MixUp"]


def _check_scale(name: str, img_scale: Any) -> tuple[int, int]:
    if not (isinstance(img_scale, (tuple, list)) and len(img_scale) == 2):
        raise ValueError(f"{name}: img_scale must be an (h, w) tuple, got {img_scale!r}")
    if img_scale[0] != img_scale[1]:
        logger.info("image shape: height=%s, width=%s in %s", img_scale[0], img_scale[1], name)
    return tuple(img_scale)


@TRANSFORMS.register_module()
class Mosaic:
    """Paste four images (this one and three from ``mix_results``) around a random centre.

    The canvas is ``2 * img_scale`` (``(h, w)``) filled with ``pad_val``; each image is
    resized to fit ``img_scale`` keeping its ratio and placed top-left, top-right,
    bottom-left, bottom-right of the centre. Boxes follow, are clipped to the canvas when
    ``bbox_clip_border``, and those outside it are dropped.

    Args:
        img_scale: ``(h, w)`` of each quadrant.
        center_ratio_range: range of the centre as a fraction of ``img_scale``.
        min_bbox_size: minimum box side kept when ``skip_filter`` is False.
        bbox_clip_border: clip boxes to the canvas.
        skip_filter: skip the ``min_bbox_size`` filter.
        pad_val: canvas fill.
        prob: probability of applying the mosaic.
    """

    def __init__(self, img_scale: Sequence[int] = (640, 640),
                 center_ratio_range: Sequence[float] = (0.5, 1.5), min_bbox_size: float = 0,
                 bbox_clip_border: bool = True, skip_filter: bool = True, pad_val: float = 114,
                 prob: float = 1.0) -> None:
        if not 0 <= prob <= 1.0:
            raise ValueError(f"The probability should be in range [0,1]. got {prob}.")
        self.img_scale = _check_scale("Mosaic", img_scale)
        self.center_ratio_range = tuple(center_ratio_range)
        self.min_bbox_size = min_bbox_size
        self.bbox_clip_border = bbox_clip_border
        self.skip_filter = skip_filter
        self.pad_val = pad_val
        self.prob = prob

    def get_indexes(self, dataset: Any) -> list[int]:
        """Three random indexes of ``dataset`` to mix with."""
        return [np.random.randint(0, len(dataset)) for _ in range(3)]

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        if np.random.uniform(0, 1) > self.prob:
            return results
        return self._mosaic_transform(results)

    def _mosaic_transform(self, results: dict) -> dict:
        if "mix_results" not in results or len(results["mix_results"]) != 3:
            raise KeyError("Mosaic needs results['mix_results'] with 3 samples; use it in "
                           "MultiImageMixDataset")
        check_no_masks(results, "Mosaic")
        sh, sw = self.img_scale
        img = results["img"]
        canvas_shape = (int(sh * 2), int(sw * 2)) + img.shape[2:3]
        canvas = np.full(canvas_shape, self.pad_val, dtype=img.dtype)
        center = (int(np.random.uniform(*self.center_ratio_range) * sw),
                  int(np.random.uniform(*self.center_ratio_range) * sh))
        all_boxes, all_labels = [], []
        sources = [results] + list(results["mix_results"])
        for loc, src in zip(("top_left", "top_right", "bottom_left", "bottom_right"), sources):
            img_i = src["img"]
            h_i, w_i = img_i.shape[:2]
            ratio = min(sh / h_i, sw / w_i)
            img_i = imresize(img_i, (int(w_i * ratio), int(h_i * ratio)))
            paste, crop = self._mosaic_combine(loc, center, img_i.shape[:2][::-1])
            x1p, y1p, x2p, y2p = paste
            x1c, y1c, x2c, y2c = crop
            canvas[y1p:y2p, x1p:x2p] = img_i[y1c:y2c, x1c:x2c]
            boxes = np.array(src["gt_bboxes"], dtype=np.float32, copy=True)
            if boxes.shape[0] > 0:
                boxes[:, 0::2] = ratio * boxes[:, 0::2] + (x1p - x1c)
                boxes[:, 1::2] = ratio * boxes[:, 1::2] + (y1p - y1c)
            all_boxes.append(boxes)
            all_labels.append(src["gt_labels"])
        boxes = np.concatenate(all_boxes, 0)
        labels = np.concatenate(all_labels, 0)
        if self.bbox_clip_border:
            boxes[:, 0::2] = np.clip(boxes[:, 0::2], 0, 2 * sw)
            boxes[:, 1::2] = np.clip(boxes[:, 1::2], 0, 2 * sh)
        if not self.skip_filter:
            keep = ((boxes[:, 2] - boxes[:, 0] > self.min_bbox_size)
                    & (boxes[:, 3] - boxes[:, 1] > self.min_bbox_size))
            boxes, labels = boxes[keep], labels[keep]
        inside = find_inside_bboxes(boxes, 2 * sh, 2 * sw)
        results["img"] = canvas
        results["img_shape"] = canvas.shape
        results["gt_bboxes"] = boxes[inside]
        results["gt_labels"] = labels[inside]
        return results

    def _mosaic_combine(self, loc: str, center_xy: tuple[int, int],
                        img_wh: tuple[int, int]) -> tuple[tuple, tuple]:
        """Paste ``(x1, y1, x2, y2)`` on the canvas and crop box in the image, for ``loc``."""
        cx, cy = center_xy
        w, h = img_wh
        max_x, max_y = self.img_scale[1] * 2, self.img_scale[0] * 2
        if loc == "top_left":
            x1, y1, x2, y2 = max(cx - w, 0), max(cy - h, 0), cx, cy
            crop = w - (x2 - x1), h - (y2 - y1), w, h
        elif loc == "top_right":
            x1, y1, x2, y2 = cx, max(cy - h, 0), min(cx + w, max_x), cy
            crop = 0, h - (y2 - y1), min(w, x2 - x1), h
        elif loc == "bottom_left":
            x1, y1, x2, y2 = max(cx - w, 0), cy, cx, min(max_y, cy + h)
            crop = w - (x2 - x1), 0, w, min(y2 - y1, h)
        elif loc == "bottom_right":
            x1, y1, x2, y2 = cx, cy, min(cx + w, max_x), min(max_y, cy + h)
            crop = 0, 0, min(w, x2 - x1), min(y2 - y1, h)
        else:
            raise ValueError(f"unknown mosaic location {loc!r}")
        return (x1, y1, x2, y2), crop

    def __repr__(self) -> str:
        return format_repr(self, "img_scale", "center_ratio_range", "min_bbox_size",
                           "bbox_clip_border", "skip_filter", "pad_val", "prob")


@TRANSFORMS.register_module()
class MixUp:
    """Blend this image 50/50 with another (``mix_results[0]``), jittered, flipped and cropped.

    The other image is resized to fit ``img_scale`` (on a ``pad_val`` canvas), scaled by a
    factor drawn from ``ratio_range``, flipped with probability ``flip_ratio``, and cropped
    at a random offset to this image's size; both images' boxes are kept.

    Args:
        img_scale: ``(h, w)`` canvas for the other image.
        ratio_range: scale jitter range.
        flip_ratio: horizontal flip probability of the other image.
        pad_val: canvas fill.
        max_iters: tries in ``get_indexes`` to find an image with boxes.
        min_bbox_size, min_area_ratio, max_aspect_ratio: box filters (unless ``skip_filter``).
        bbox_clip_border: clip boxes to the image.
        skip_filter: skip the three box filters above.
    """

    def __init__(self, img_scale: Sequence[int] = (640, 640),
                 ratio_range: Sequence[float] = (0.5, 1.5), flip_ratio: float = 0.5,
                 pad_val: float = 114, max_iters: int = 15, min_bbox_size: float = 5,
                 min_area_ratio: float = 0.2, max_aspect_ratio: float = 20,
                 bbox_clip_border: bool = True, skip_filter: bool = True) -> None:
        self.dynamic_scale = _check_scale("MixUp", img_scale)
        self.ratio_range = tuple(ratio_range)
        self.flip_ratio = flip_ratio
        self.pad_val = pad_val
        self.max_iters = max_iters
        self.min_bbox_size = min_bbox_size
        self.min_area_ratio = min_area_ratio
        self.max_aspect_ratio = max_aspect_ratio
        self.bbox_clip_border = bbox_clip_border
        self.skip_filter = skip_filter

    def get_indexes(self, dataset: Any) -> int:
        """A random index of ``dataset`` whose image has boxes (``max_iters`` tries)."""
        for _ in range(self.max_iters):
            index = np.random.randint(0, len(dataset))
            if len(dataset.get_ann_info(index)["bboxes"]) != 0:
                break
        return index

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        return self._mixup_transform(results)

    def _filter_box_candidates(self, bbox1: np.ndarray, bbox2: np.ndarray) -> np.ndarray:
        w1, h1 = bbox1[2] - bbox1[0], bbox1[3] - bbox1[1]
        w2, h2 = bbox2[2] - bbox2[0], bbox2[3] - bbox2[1]
        ar = np.maximum(w2 / (h2 + 1e-16), h2 / (w2 + 1e-16))
        return ((w2 > self.min_bbox_size) & (h2 > self.min_bbox_size)
                & (w2 * h2 / (w1 * h1 + 1e-16) > self.min_area_ratio)
                & (ar < self.max_aspect_ratio))

    def _mixup_transform(self, results: dict) -> dict:
        mix = results.get("mix_results")
        if mix is None or len(mix) != 1:
            raise KeyError("MixUp needs results['mix_results'] with 1 sample; use it in "
                           "MultiImageMixDataset")
        check_no_masks(results, "MixUp")
        other = mix[0]
        if other["gt_bboxes"].shape[0] == 0:
            return results
        other_img = other["img"]
        jit_factor = np.random.uniform(*self.ratio_range)
        is_flip = np.random.uniform(0, 1) < self.flip_ratio
        sh, sw = self.dynamic_scale
        out_img = np.ones((sh, sw) + other_img.shape[2:3], dtype=other_img.dtype) * self.pad_val
        scale_ratio = min(sh / other_img.shape[0], sw / other_img.shape[1])
        other_img = imresize(other_img, (int(other_img.shape[1] * scale_ratio),
                                         int(other_img.shape[0] * scale_ratio)))
        out_img[:other_img.shape[0], :other_img.shape[1]] = other_img
        scale_ratio *= jit_factor
        out_img = imresize(out_img, (int(out_img.shape[1] * jit_factor),
                                     int(out_img.shape[0] * jit_factor)))
        if is_flip:
            out_img = out_img[:, ::-1, :]
        ori_img = results["img"]
        origin_h, origin_w = out_img.shape[:2]
        target_h, target_w = ori_img.shape[:2]
        padded = np.zeros((max(origin_h, target_h), max(origin_w, target_w), 3)).astype(np.uint8)
        padded[:origin_h, :origin_w] = out_img
        x_offset = y_offset = 0
        if padded.shape[0] > target_h:
            y_offset = np.random.randint(0, padded.shape[0] - target_h)
        if padded.shape[1] > target_w:
            x_offset = np.random.randint(0, padded.shape[1] - target_w)
        padded_cropped = padded[y_offset:y_offset + target_h, x_offset:x_offset + target_w]

        boxes = np.array(other["gt_bboxes"], dtype=np.float32, copy=True)
        boxes[:, 0::2] = boxes[:, 0::2] * scale_ratio
        boxes[:, 1::2] = boxes[:, 1::2] * scale_ratio
        if self.bbox_clip_border:
            boxes[:, 0::2] = np.clip(boxes[:, 0::2], 0, origin_w)
            boxes[:, 1::2] = np.clip(boxes[:, 1::2], 0, origin_h)
        if is_flip:
            boxes[:, 0::2] = origin_w - boxes[:, 0::2][:, ::-1]
        cropped = boxes.copy()
        cropped[:, 0::2] -= x_offset
        cropped[:, 1::2] -= y_offset
        if self.bbox_clip_border:
            cropped[:, 0::2] = np.clip(cropped[:, 0::2], 0, target_w)
            cropped[:, 1::2] = np.clip(cropped[:, 1::2], 0, target_h)

        mixed = 0.5 * ori_img.astype(np.float32) + 0.5 * padded_cropped.astype(np.float32)
        other_labels = other["gt_labels"]
        if not self.skip_filter:
            keep = self._filter_box_candidates(boxes.T, cropped.T)
            other_labels = other_labels[keep]
            cropped = cropped[keep]
        all_boxes = np.concatenate((results["gt_bboxes"], cropped), axis=0)
        all_labels = np.concatenate((results["gt_labels"], other_labels), axis=0)
        inside = find_inside_bboxes(all_boxes, target_h, target_w)
        results["img"] = mixed.astype(np.uint8)
        results["img_shape"] = mixed.shape
        results["gt_bboxes"] = all_boxes[inside]
        results["gt_labels"] = all_labels[inside]
        return results

    def __repr__(self) -> str:
        return (f"MixUp(img_scale={self.dynamic_scale!r}, ratio_range={self.ratio_range!r}, "
                f"flip_ratio={self.flip_ratio!r}, pad_val={self.pad_val!r}, "
                f"max_iters={self.max_iters!r}, min_bbox_size={self.min_bbox_size!r}, "
                f"min_area_ratio={self.min_area_ratio!r}, "
                f"max_aspect_ratio={self.max_aspect_ratio!r}, "
                f"bbox_clip_border={self.bbox_clip_border!r}, skip_filter={self.skip_filter!r})")
