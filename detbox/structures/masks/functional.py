"""Pure mask helpers: COCO segmentations (polygons, RLE) to bitmaps and back, warps.

Run-length encoding uses ``faster_coco_eval.core.mask`` (the C code of ``pycocotools``, same
strings and bitmaps). Bitmaps are ``uint8[H, W]`` (or ``[N, H, W]``); polygons are flat
``[x0, y0, x1, y1, ...]`` arrays in pixels, several per object.

>>> m = polygon_to_bitmap([np.array([1., 1., 5., 1., 5., 4., 1., 4.])], 6, 6)
>>> int(m.sum()), m.dtype
(12, dtype('bool'))
"""

from __future__ import annotations

from typing import Any, Sequence

import cv2
import numpy as np

__all__ = ["polygon_to_bitmap", "bitmap_to_polygon", "segm_to_bitmap", "encode_mask_results",
           "rescale_size", "warp_masks", "translate_matrix", "shear_matrix",
           "rotation_matrix", "channel_border", "INTERPOLATIONS"]

INTERPOLATIONS = {
    "nearest": cv2.INTER_NEAREST,
    "bilinear": cv2.INTER_LINEAR,
    "bicubic": cv2.INTER_CUBIC,
    "area": cv2.INTER_AREA,
    "lanczos": cv2.INTER_LANCZOS4,
}


def _mask_api() -> Any:
    from faster_coco_eval.core import mask as mask_api

    return mask_api


def polygon_to_bitmap(polygons: Sequence[np.ndarray], height: int, width: int) -> np.ndarray:
    """``bool[height, width]``: the union of an object's polygons, rasterised as COCO does."""
    api = _mask_api()
    rles = api.frPyObjects([np.asarray(p, dtype=np.float64) for p in polygons], height, width)
    return api.decode(api.merge(rles)).astype(bool)


def segm_to_bitmap(segm: Any, height: int, width: int) -> np.ndarray:
    """``uint8[height, width]`` of one COCO ``segmentation``: polygons, RLE or compressed RLE.

    Polygons (a list of flat coordinate lists) are merged into one mask; an uncompressed RLE
    (``counts`` a list, as ``iscrowd`` annotations have) is compressed first.
    """
    api = _mask_api()
    if isinstance(segm, list):
        rle = api.merge(api.frPyObjects(segm, height, width))
    elif isinstance(segm, dict) and "counts" in segm:
        if isinstance(segm["counts"], list):
            rle = api.frPyObjects(segm, height, width)
        else:
            rle = segm
    else:
        raise TypeError(f"a segmentation must be a list of polygons or an RLE dict with "
                        f"'counts' and 'size', got {type(segm).__name__}: {str(segm)[:80]}")
    return api.decode(rle)


def bitmap_to_polygon(bitmap: np.ndarray) -> tuple[list[np.ndarray], bool]:
    """Contours ``[n_i, 2]`` (x, y) of a ``[H, W]`` bitmap, and whether it has holes.

    Uses OpenCV's two-level contour hierarchy (outer borders, holes), all contour points.
    """
    bitmap = np.ascontiguousarray(bitmap).astype(np.uint8)
    outs = cv2.findContours(bitmap, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
    contours, hierarchy = outs[-2], outs[-1]
    if hierarchy is None:
        return [], False
    with_hole = bool((hierarchy.reshape(-1, 4)[:, 3] >= 0).any())
    return [c.reshape(-1, 2) for c in contours], with_hole


def encode_mask_results(mask_results: Any) -> Any:
    """RLE-encode test results: per class, a list of ``bool[H, W]`` masks -> RLE dicts.

    ``mask_results`` is a list over classes, or ``(segms, mask_scores)`` (Mask Scoring
    R-CNN), which is returned as ``(encoded, mask_scores)``. RLE ``counts`` are bytes, as
    ``pycocotools.mask.encode`` gives them.
    """
    api = _mask_api()
    scores = None
    segms = mask_results
    if isinstance(mask_results, tuple):
        segms, scores = mask_results
    encoded = [[api.encode(np.array(m[:, :, None], order="F", dtype=np.uint8))[0]
                for m in cls_segms] for cls_segms in segms]
    return (encoded, scores) if isinstance(mask_results, tuple) else encoded


def rescale_size(old_size: tuple[int, int], scale: float | Sequence[int]) -> tuple[int, int]:
    """``(w, h)`` after rescaling ``old_size=(w, h)`` by a factor or into ``(long, short)``.

    Same rounding as ``mmcv.rescale_size``: ``int(side * factor + 0.5)``.

    >>> rescale_size((640, 480), (1333, 800))
    (1067, 800)
    """
    w, h = old_size
    if isinstance(scale, (float, int)) and not isinstance(scale, bool):
        if scale <= 0:
            raise ValueError(f"Invalid scale {scale}, must be positive.")
        factor = scale
    elif isinstance(scale, (tuple, list)) and len(scale) == 2:
        factor = min(max(scale) / max(h, w), min(scale) / min(h, w))
    else:
        raise TypeError(f"scale must be a number or a (long, short) tuple, got {scale!r}")
    return int(w * float(factor) + 0.5), int(h * float(factor) + 0.5)


def translate_matrix(offset: float, direction: str) -> np.ndarray:
    """``float32[2, 3]`` affine matrix moving by ``offset`` px along ``direction``."""
    if direction == "horizontal":
        return np.float32([[1, 0, offset], [0, 1, 0]])
    if direction == "vertical":
        return np.float32([[1, 0, 0], [0, 1, offset]])
    raise ValueError(f"direction must be 'horizontal' or 'vertical', got {direction!r}")


def shear_matrix(magnitude: float, direction: str) -> np.ndarray:
    """``float32[2, 3]`` shear matrix (``x' = x + m y`` horizontally)."""
    if direction == "horizontal":
        return np.float32([[1, magnitude, 0], [0, 1, 0]])
    if direction == "vertical":
        return np.float32([[1, 0, 0], [magnitude, 1, 0]])
    raise ValueError(f"direction must be 'horizontal' or 'vertical', got {direction!r}")


def rotation_matrix(center: tuple[float, float], angle: float, scale: float) -> np.ndarray:
    """``float64[2, 3]``: rotate ``angle`` degrees **clockwise** about ``center=(x, y)``."""
    return cv2.getRotationMatrix2D(center, -angle, scale)


def channel_border(value: Any, channels: int) -> tuple:
    """mmcv's border of ``imtranslate``/``imshear``: one value per channel, at most three."""
    if isinstance(value, int):
        value = (value,) * channels
    elif not isinstance(value, tuple):
        raise ValueError(f"Invalid type {type(value)} for `border_value`")
    elif len(value) != channels:
        raise ValueError(f"border_value {value} has {len(value)} values for {channels} channels")
    return value[:3]


def warp_masks(masks: np.ndarray, matrix: np.ndarray, border_value: Any = 0,
               interpolation: str = "bilinear") -> np.ndarray:
    """Warp ``[N, H, W]`` masks with one affine ``matrix`` into ``[N, H, W]``, like mmcv.

    The masks are warped as one ``[H, W, N]`` image (as ``mmcv.imtranslate``/``imshear``/
    ``imrotate`` see them), keeping the input size; ``border_value`` goes to OpenCV as
    given (see :func:`channel_border` for translate and shear).
    """
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"interpolation {interpolation!r} is not one of {sorted(INTERPOLATIONS)}")
    n, h, w = masks.shape
    out = cv2.warpAffine(masks.transpose(1, 2, 0), matrix, (w, h),
                         flags=INTERPOLATIONS[interpolation], borderValue=border_value)
    if out.ndim == 2:
        out = out[:, :, None]
    return out.transpose(2, 0, 1)
