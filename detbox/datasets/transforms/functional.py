"""Image and box helpers of the pipeline, numerically equal to mmcv 1.7's ``mmcv.image``.

Images are ``np.ndarray[H, W, C]`` (or ``[H, W]``) in BGR order unless said otherwise; sizes
given as ``(w, h)`` are named so. Boxes are ``np.ndarray[N, 4]`` xyxy in pixels.

>>> rescale_size((640, 480), (1333, 800))
(1067, 800)
"""

from __future__ import annotations

import numbers
from typing import Sequence

import cv2
import numpy as np

__all__ = [
    "IMREAD_FLAGS", "INTERPOLATIONS", "imfrombytes", "rescale_size", "imresize", "imrescale",
    "imflip", "impad", "impad_to_multiple", "imnormalize", "imdenormalize", "bbox_flip",
    "find_inside_bboxes", "bbox_overlaps_np",
]

IMREAD_FLAGS = {
    "color": cv2.IMREAD_COLOR,
    "grayscale": cv2.IMREAD_GRAYSCALE,
    "unchanged": cv2.IMREAD_UNCHANGED,
    "color_ignore_orientation": cv2.IMREAD_IGNORE_ORIENTATION | cv2.IMREAD_COLOR,
    "grayscale_ignore_orientation": cv2.IMREAD_IGNORE_ORIENTATION | cv2.IMREAD_GRAYSCALE,
}

INTERPOLATIONS = {
    "nearest": cv2.INTER_NEAREST,
    "bilinear": cv2.INTER_LINEAR,
    "bicubic": cv2.INTER_CUBIC,
    "area": cv2.INTER_AREA,
    "lanczos": cv2.INTER_LANCZOS4,
}


def imfrombytes(content: bytes, flag: str | int = "color",
                channel_order: str = "bgr") -> np.ndarray | None:
    """Decode encoded image bytes with OpenCV, as ``mmcv.imfrombytes`` (cv2 backend) does.

    ``'color'`` gives ``uint8[H, W, 3]``: grey images are expanded, alpha is dropped and the
    EXIF orientation is applied; ``'unchanged'`` keeps channels and ignores EXIF.

    Args:
        content: the file's bytes.
        flag: a key of :data:`IMREAD_FLAGS` or a ``cv2.IMREAD_*`` value.
        channel_order: ``'bgr'`` or ``'rgb'`` (only applied to 3-channel color reads).

    Returns:
        The image, or ``None`` if the bytes are not a decodable image.
    """
    if channel_order not in ("bgr", "rgb"):
        raise ValueError(f"channel_order must be 'bgr' or 'rgb', got {channel_order!r}")
    if isinstance(flag, str):
        if flag not in IMREAD_FLAGS:
            raise ValueError(f"unknown color_type {flag!r}; use one of {sorted(IMREAD_FLAGS)}")
        flag = IMREAD_FLAGS[flag]
    if len(content) == 0:
        return None
    img = cv2.imdecode(np.frombuffer(content, np.uint8), flag)
    if img is not None and channel_order == "rgb" and (flag & ~cv2.IMREAD_IGNORE_ORIENTATION) \
            == cv2.IMREAD_COLOR:
        cv2.cvtColor(img, cv2.COLOR_BGR2RGB, img)
    return img


def rescale_size(old_size: tuple[int, int], scale: float | Sequence[int],
                 return_scale: bool = False):
    """The ``(w, h)`` an image of ``old_size=(w, h)`` gets when rescaled by ``scale``.

    ``scale`` is a factor, or a ``(long, short)`` edge bound: the factor is then
    ``min(max(scale) / max(h, w), min(scale) / min(h, w))``. Each side becomes
    ``int(side * factor + 0.5)``.

    Returns:
        ``(w, h)``, or ``((w, h), factor)`` when ``return_scale``.
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
    new_size = int(w * float(factor) + 0.5), int(h * float(factor) + 0.5)
    return (new_size, factor) if return_scale else new_size


def imresize(img: np.ndarray, size: tuple[int, int], return_scale: bool = False,
             interpolation: str = "bilinear", backend: str | None = "cv2"):
    """Resize ``img`` to ``size=(w, h)``.

    Returns:
        The image, or ``(image, w_scale, h_scale)`` when ``return_scale``.
    """
    h, w = img.shape[:2]
    size = (int(size[0]), int(size[1]))
    backend = backend or "cv2"
    if backend == "cv2":
        if interpolation not in INTERPOLATIONS:
            raise ValueError(f"interpolation {interpolation!r} is not one of "
                             f"{sorted(INTERPOLATIONS)}")
        out = cv2.resize(img, size, interpolation=INTERPOLATIONS[interpolation])
    elif backend == "pillow":
        from PIL import Image

        if img.dtype != np.uint8:
            raise TypeError("the pillow resize backend only takes uint8 images")
        codes = {"nearest": Image.NEAREST, "bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC,
                 "box": Image.BOX, "lanczos": Image.LANCZOS, "hamming": Image.HAMMING}
        out = np.array(Image.fromarray(img).resize(size, codes[interpolation]))
    else:
        raise ValueError(f"backend {backend!r} is not supported for resize; use 'cv2' or 'pillow'")
    if not return_scale:
        return out
    return out, size[0] / w, size[1] / h


def imrescale(img: np.ndarray, scale: float | Sequence[int], return_scale: bool = False,
              interpolation: str = "bilinear", backend: str | None = "cv2"):
    """Resize ``img`` keeping its aspect ratio (see :func:`rescale_size`).

    Returns:
        The image, or ``(image, factor)`` when ``return_scale``.
    """
    h, w = img.shape[:2]
    new_size, factor = rescale_size((w, h), scale, return_scale=True)
    out = imresize(img, new_size, interpolation=interpolation, backend=backend)
    return (out, factor) if return_scale else out


_CV2_DTYPES = (np.uint8, np.int8, np.uint16, np.int16, np.int32, np.float32, np.float64)


def imflip(img: np.ndarray, direction: str = "horizontal") -> np.ndarray:
    """Flip ``img`` 'horizontal', 'vertical' or 'diagonal'ly into a new contiguous array.

    Same values as mmcv's ``np.flip`` view; OpenCV's copy is ~30x faster than copying a
    negative-stride view later (which the next transform would otherwise do).
    """
    axes = {"horizontal": 1, "vertical": 0, "diagonal": (0, 1)}
    if direction not in axes:
        raise ValueError(f"flip direction must be one of {sorted(axes)}, got {direction!r}")
    if img.dtype in _CV2_DTYPES and img.ndim in (2, 3) and img.size > 0 \
            and (img.ndim == 2 or img.shape[2] <= 4):
        return cv2.flip(img, {"horizontal": 1, "vertical": 0, "diagonal": -1}[direction])
    return np.ascontiguousarray(np.flip(img, axis=axes[direction]))


def _check_pad_val(pad_val, img: np.ndarray):
    if isinstance(pad_val, list):
        pad_val = tuple(pad_val)
    if isinstance(pad_val, tuple):
        channels = img.shape[-1] if img.ndim == 3 else 1
        if len(pad_val) != channels:
            raise ValueError(f"pad_val {pad_val} has {len(pad_val)} values for an image with "
                             f"{channels} channels")
    elif not isinstance(pad_val, numbers.Number):
        raise TypeError(f"pad_val must be a number or a tuple, got {type(pad_val).__name__}")
    return pad_val


def impad(img: np.ndarray, *, shape: tuple[int, int] | None = None,
          padding: int | tuple | None = None, pad_val=0,
          padding_mode: str = "constant") -> np.ndarray:
    """Pad ``img`` at the bottom/right up to ``shape=(h, w)``, or by ``padding`` on the sides.

    A number ``pad_val`` is an OpenCV scalar: on a 3-channel image it fills only the first
    channel (the others get 0), exactly as mmcv; give a tuple to fill every channel.

    Args:
        shape: target ``(h, w)``; sides already larger are left as they are.
        padding: ``p``, ``(left/right, top/bottom)`` or ``(left, top, right, bottom)``.
        pad_val: the fill value(s) for ``'constant'`` mode.
        padding_mode: 'constant', 'edge', 'reflect' or 'symmetric'.
    """
    if (shape is None) == (padding is None):
        raise ValueError("give exactly one of shape and padding")
    if shape is not None:
        padding = (0, 0, max(int(shape[1]) - img.shape[1], 0),
                   max(int(shape[0]) - img.shape[0], 0))
    pad_val = _check_pad_val(pad_val, img)
    if isinstance(padding, numbers.Number):
        padding = (padding,) * 4
    elif isinstance(padding, (tuple, list)) and len(padding) == 2:
        padding = (padding[0], padding[1], padding[0], padding[1])
    elif not (isinstance(padding, (tuple, list)) and len(padding) == 4):
        raise ValueError(f"padding must be an int or a 2- or 4-tuple, got {padding!r}")
    modes = {"constant": cv2.BORDER_CONSTANT, "edge": cv2.BORDER_REPLICATE,
             "reflect": cv2.BORDER_REFLECT_101, "symmetric": cv2.BORDER_REFLECT}
    if padding_mode not in modes:
        raise ValueError(f"padding_mode must be one of {sorted(modes)}, got {padding_mode!r}")
    left, top, right, bottom = (int(p) for p in padding)
    return cv2.copyMakeBorder(img, top, bottom, left, right, modes[padding_mode], value=pad_val)


def impad_to_multiple(img: np.ndarray, divisor: int, pad_val=0) -> np.ndarray:
    """Pad ``img`` at the bottom/right so both sides are multiples of ``divisor``."""
    pad_h = int(np.ceil(img.shape[0] / divisor)) * divisor
    pad_w = int(np.ceil(img.shape[1] / divisor)) * divisor
    return impad(img, shape=(pad_h, pad_w), pad_val=pad_val)


_LUT_CACHE: dict[tuple, np.ndarray] = {}


def _normalize_float_(img: np.ndarray, mean: np.ndarray, std: np.ndarray,
                      to_rgb: bool) -> np.ndarray:
    """mmcv's in-place float normalisation: optional BGR->RGB, ``- mean``, ``* (1 / std)``."""
    mean64 = np.float64(np.asarray(mean).reshape(1, -1))
    stdinv64 = 1 / np.float64(np.asarray(std).reshape(1, -1))
    if to_rgb:
        cv2.cvtColor(img, cv2.COLOR_BGR2RGB, img)
    cv2.subtract(img, mean64, img)
    cv2.multiply(img, stdinv64, img)
    return img


def _normalize_lut(mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    key = (mean.tobytes(), std.tobytes())
    lut = _LUT_CACHE.get(key)
    if lut is None:
        # Each uint8 value through the same float32 OpenCV arithmetic as the float path, so
        # looking values up is bit-identical to computing them.
        values = np.repeat(np.arange(256, dtype=np.float32)[:, None, None], len(mean), axis=2)
        lut = _normalize_float_(values, mean, std, to_rgb=False).reshape(256, 1, len(mean))
        _LUT_CACHE[key] = lut
    return lut


def imnormalize(img: np.ndarray, mean, std, to_rgb: bool = True) -> np.ndarray:
    """``(img - mean) / std`` in float32 after an optional BGR->RGB swap; a new array.

    Bit-identical to ``mmcv.imnormalize`` (which subtracts ``mean`` and multiplies by
    ``1 / std`` with OpenCV); ``uint8`` 3-channel images go through a 256-entry lookup table.

    Args:
        img: ``[H, W, 3]`` image (any dtype).
        mean, std: per-channel values, in the order of the output channels.
        to_rgb: swap BGR to RGB first.

    Returns:
        ``float32[H, W, 3]``.
    """
    mean = np.asarray(mean, dtype=np.float32).reshape(-1)
    std = np.asarray(std, dtype=np.float32).reshape(-1)
    if img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3 == len(mean) == len(std):
        src = cv2.cvtColor(img, cv2.COLOR_BGR2RGB) if to_rgb else img
        return cv2.LUT(src, _normalize_lut(mean, std))
    # a C-ordered copy: OpenCV's in-place ops reject views (PhotoMetricDistortion's channel
    # permutation, flips)
    return _normalize_float_(img.astype(np.float32, order="C"), mean, std, to_rgb)


def imdenormalize(img: np.ndarray, mean, std, to_rgb: bool = True) -> np.ndarray:
    """Undo :func:`imnormalize`: ``img * std + mean``, then RGB->BGR if ``to_rgb``."""
    mean = np.asarray(mean, dtype=np.float64).reshape(1, -1)
    std = np.asarray(std, dtype=np.float64).reshape(1, -1)
    img = cv2.multiply(np.ascontiguousarray(img, dtype=np.float32), std)
    cv2.add(img, mean, img)
    if to_rgb:
        cv2.cvtColor(img, cv2.COLOR_RGB2BGR, img)
    return img


def bbox_flip(bboxes: np.ndarray, img_shape: Sequence[int], direction: str) -> np.ndarray:
    """Flip boxes ``[..., 4k]`` xyxy inside an image of ``img_shape=(h, w, ...)``.

    Horizontal: ``x1' = w - x2, x2' = w - x1`` (no ``- 1``, as MMDetection v2).
    """
    if bboxes.shape[-1] % 4 != 0:
        raise ValueError(f"boxes must have 4k columns, got shape {bboxes.shape}")
    flipped = bboxes.copy()
    h, w = img_shape[0], img_shape[1]
    if direction in ("horizontal", "diagonal"):
        flipped[..., 0::4] = w - bboxes[..., 2::4]
        flipped[..., 2::4] = w - bboxes[..., 0::4]
    if direction in ("vertical", "diagonal"):
        flipped[..., 1::4] = h - bboxes[..., 3::4]
        flipped[..., 3::4] = h - bboxes[..., 1::4]
    if direction not in ("horizontal", "vertical", "diagonal"):
        raise ValueError(f"Invalid flipping direction {direction!r}")
    return flipped


def find_inside_bboxes(bboxes: np.ndarray, img_h: float, img_w: float) -> np.ndarray:
    """``bool[N]``: boxes ``[N, 4]`` with some part inside the ``img_h x img_w`` image."""
    return ((bboxes[:, 0] < img_w) & (bboxes[:, 2] > 0)
            & (bboxes[:, 1] < img_h) & (bboxes[:, 3] > 0))


def bbox_overlaps_np(bboxes1: np.ndarray, bboxes2: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """IoU ``float32[N, M]`` of boxes ``[N, 4]`` and ``[M, 4]`` (xyxy, no ``+ 1``)."""
    b1 = bboxes1.astype(np.float32).reshape(-1, 4)
    b2 = bboxes2.astype(np.float32).reshape(-1, 4)
    if len(b1) == 0 or len(b2) == 0:
        return np.zeros((len(b1), len(b2)), dtype=np.float32)
    area1 = (b1[:, 2] - b1[:, 0]) * (b1[:, 3] - b1[:, 1])
    area2 = (b2[:, 2] - b2[:, 0]) * (b2[:, 3] - b2[:, 1])
    lt = np.maximum(b1[:, None, :2], b2[None, :, :2])  # [N, M, 2]
    rb = np.minimum(b1[:, None, 2:], b2[None, :, 2:])  # [N, M, 2]
    wh = np.maximum(rb - lt, 0)
    overlap = wh[..., 0] * wh[..., 1]
    union = np.maximum(area1[:, None] + area2[None, :] - overlap, eps)
    return (overlap / union).astype(np.float32)
