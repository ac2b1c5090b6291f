"""Formatting: numpy results to tensors, and ``Collect`` into the sample the model reads.

A training sample after ``DefaultFormatBundle`` + ``Collect`` is
``dict(img=Tensor[3, H, W] float32, img_metas=dict(...), gt_bboxes=Tensor[N, 4],
gt_labels=Tensor[N] int64)`` (DEVELOPERS.md, "Data contract"); there is no DataContainer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np
import torch

from ...registry import TRANSFORMS
from ._common import format_repr

__all__ = ["to_tensor", "ToTensor", "ImageToTensor", "Transpose", "ToDataContainer",
           "DefaultFormatBundle", "Collect", "WrapFieldsToLists", "image_to_chw_tensor"]

DEFAULT_META_KEYS = ("filename", "ori_filename", "ori_shape", "img_shape", "pad_shape",
                     "scale_factor", "flip", "flip_direction", "img_norm_cfg")

# Which transform sets each meta key, for error messages.
_META_SOURCE = {
    "filename": "LoadImageFromFile", "ori_filename": "LoadImageFromFile",
    "ori_shape": "LoadImageFromFile", "img_shape": "LoadImageFromFile",
    "pad_shape": "Resize/Pad/DefaultFormatBundle", "scale_factor": "Resize/DefaultFormatBundle",
    "flip": "RandomFlip", "flip_direction": "RandomFlip",
    "img_norm_cfg": "Normalize/DefaultFormatBundle",
}


def to_tensor(data: Any) -> torch.Tensor:
    """A tensor from a tensor, array, sequence (not str), int (int64) or float (float32)."""
    if isinstance(data, torch.Tensor):
        return data
    if isinstance(data, np.ndarray):
        return torch.from_numpy(data)
    if isinstance(data, Sequence) and not isinstance(data, str):
        return torch.tensor(data)
    if isinstance(data, int):
        return torch.LongTensor([data])
    if isinstance(data, float):
        return torch.FloatTensor([data])
    raise TypeError(f"type {type(data)} cannot be converted to tensor.")


def image_to_chw_tensor(img: np.ndarray) -> torch.Tensor:
    """``[H, W, C]`` (or ``[H, W]``) array -> contiguous ``Tensor[C, H, W]`` of the same dtype."""
    if img.ndim < 3:
        img = img[..., None]
    if img.shape[2] == 3 and img.dtype in (np.float32, np.uint8):
        # OpenCV's split writes each plane straight into the CHW buffer: several times
        # faster than a strided permute-copy, same values.
        out = np.empty((3,) + img.shape[:2], dtype=img.dtype)
        cv2.split(np.ascontiguousarray(img), [out[0], out[1], out[2]])
        return torch.from_numpy(out)
    return torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))


@TRANSFORMS.register_module()
class ToTensor:
    """Convert ``results[key]`` to tensors for each of ``keys``."""

    def __init__(self, keys: Sequence[str]) -> None:
        self.keys = keys

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        for key in self.keys:
            results[key] = to_tensor(results[key])
        return results

    def __repr__(self) -> str:
        return format_repr(self, "keys")


@TRANSFORMS.register_module()
class ImageToTensor:
    """Convert images ``[H, W, C]`` at ``keys`` to ``Tensor[C, H, W]`` (dtype kept)."""

    def __init__(self, keys: Sequence[str]) -> None:
        self.keys = keys

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        for key in self.keys:
            results[key] = image_to_chw_tensor(results[key])
        return results

    def __repr__(self) -> str:
        return format_repr(self, "keys")


@TRANSFORMS.register_module()
class Transpose:
    """Transpose arrays at ``keys`` by ``order``."""

    def __init__(self, keys: Sequence[str], order: Sequence[int]) -> None:
        self.keys = keys
        self.order = order

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        for key in self.keys:
            results[key] = results[key].transpose(self.order)
        return results

    def __repr__(self) -> str:
        return format_repr(self, "keys", "order")


@TRANSFORMS.register_module()
class ToDataContainer:
    """Accepted for MMDetection configs and does nothing: detbox has no DataContainer.

    The collate function decides stacking per key (DEVELOPERS.md, "Data contract").
    """

    def __init__(self, fields: Sequence[dict] = (dict(key="img", stack=True),
                                                 dict(key="gt_bboxes"), dict(key="gt_labels"))
                 ) -> None:
        self.fields = fields

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        return results

    def __repr__(self) -> str:
        return format_repr(self, "fields")


@TRANSFORMS.register_module()
class DefaultFormatBundle:
    """Image to ``Tensor[C, H, W]`` (float32 from uint8), ``gt_*``/``proposals`` to tensors.

    Also fills ``pad_shape`` (image shape), ``scale_factor`` (1.0) and ``img_norm_cfg``
    (zero mean, unit std, ``to_rgb=False``) when a pipeline did not set them.

    Args:
        img_to_float: convert uint8 images to float32.
        pad_val: ``dict(img=0, masks=0, seg=255)``; the batch collate pads images with
            zeros, as MMDetection's; kept for configs.
    """

    def __init__(self, img_to_float: bool = True, pad_val: dict | None = None) -> None:
        self.img_to_float = img_to_float
        self.pad_val = dict(img=0, masks=0, seg=255) if pad_val is None else pad_val

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        if "img" in results:
            img = results["img"]
            if self.img_to_float and img.dtype == np.uint8:
                img = img.astype(np.float32)
            self._add_default_meta_keys(results)
            results["img"] = image_to_chw_tensor(img)
        for key in ("proposals", "gt_bboxes", "gt_bboxes_ignore", "gt_labels"):
            if key in results:
                results[key] = to_tensor(results[key])
        if "gt_semantic_seg" in results:
            results["gt_semantic_seg"] = to_tensor(results["gt_semantic_seg"][None, ...])
        return results

    @staticmethod
    def _add_default_meta_keys(results: dict) -> None:
        img = results["img"]
        results.setdefault("pad_shape", img.shape)
        results.setdefault("scale_factor", 1.0)
        channels = 1 if img.ndim < 3 else img.shape[2]
        results.setdefault("img_norm_cfg", dict(mean=np.zeros(channels, dtype=np.float32),
                                                std=np.ones(channels, dtype=np.float32),
                                                to_rgb=False))

    def __repr__(self) -> str:
        return format_repr(self, "img_to_float", "pad_val")


@TRANSFORMS.register_module()
class Collect:
    """Keep ``keys`` and gather ``meta_keys`` into ``img_metas`` (a plain dict).

    Args:
        keys: results keys the model takes (``'img'``, ``'gt_bboxes'``, ``'gt_labels'``...).
        meta_keys: keys copied into ``img_metas``.
    """

    def __init__(self, keys: Sequence[str], meta_keys: Sequence[str] = DEFAULT_META_KEYS) -> None:
        self.keys = keys
        self.meta_keys = meta_keys

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        missing = [k for k in list(self.meta_keys) + list(self.keys) if k not in results]
        if missing:
            hints = ", ".join(f"'{k}' (set by {_META_SOURCE[k]})" if k in _META_SOURCE
                              else f"'{k}'" for k in missing)
            raise KeyError(f"Collect: results has no {hints}; add the transform that sets it "
                           f"or remove it from Collect's keys/meta_keys. Present keys: "
                           f"{sorted(results)}")
        data = {"img_metas": {key: results[key] for key in self.meta_keys}}
        for key in self.keys:
            data[key] = results[key]
        return data

    def __repr__(self) -> str:
        return format_repr(self, "keys", "meta_keys")


@TRANSFORMS.register_module()
class WrapFieldsToLists:
    """Wrap every value in a one-element list (a test pipeline without MultiScaleFlipAug)."""

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        for key, val in results.items():
            results[key] = [val]
        return results

    def __repr__(self) -> str:
        return "WrapFieldsToLists()"
