"""Loading transforms: images from files or arrays, annotations, proposals, and filtering."""

from __future__ import annotations

import logging
import os.path as osp
from typing import Any, Sequence

import numpy as np

from ...registry import TRANSFORMS
from ...structures import BitmapMasks, PolygonMasks
from ...structures.masks import segm_to_bitmap
from ._common import format_repr
from .functional import imfrombytes

logger = logging.getLogger(__name__)

__all__ = ["LoadImageFromFile", "LoadImageFromWebcam", "LoadAnnotations", "LoadProposals",
           "FilterAnnotations"]


def _set_image(results: dict, img: np.ndarray, to_float32: bool) -> dict:
    if to_float32:
        img = img.astype(np.float32)
    results["img"] = img
    results["img_shape"] = img.shape
    results["ori_shape"] = img.shape
    results["img_fields"] = ["img"]
    return results


@TRANSFORMS.register_module()
class LoadImageFromFile:
    """Read ``img_prefix / img_info['filename']`` into ``results['img']``.

    Sets ``filename``, ``ori_filename``, ``img``, ``img_shape``, ``ori_shape``, ``img_fields``.
    With ``color_type='color'`` every file (grey, RGBA, EXIF-rotated) becomes an upright
    ``uint8[H, W, 3]`` image, as ``mmcv.imfrombytes``.

    Args:
        to_float32: convert the image to float32.
        color_type: 'color', 'grayscale', 'unchanged', 'color_ignore_orientation' or
            'grayscale_ignore_orientation'.
        channel_order: 'bgr' or 'rgb'.
        file_client_args: accepted for MMDetection configs; files are read from local disk.
    """

    def __init__(self, to_float32: bool = False, color_type: str = "color",
                 channel_order: str = "bgr",
                 file_client_args: dict | None = None) -> None:
        self.to_float32 = to_float32
        self.color_type = color_type
        self.channel_order = channel_order
        self.file_client_args = dict(backend="disk") if file_client_args is None \
            else dict(file_client_args)
        if self.file_client_args.get("backend", "disk") != "disk":
            logger.warning("%s: file_client_args=%s is ignored; images are read from local "
                           "disk", type(self).__name__, self.file_client_args)

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        name = results["img_info"]["filename"]
        prefix = results.get("img_prefix")
        filename = osp.join(prefix, name) if prefix is not None else name
        try:
            with open(filename, "rb") as f:
                content = f.read()
        except FileNotFoundError:
            raise FileNotFoundError(
                f"image file not found: {filename} (img_prefix={prefix!r}, "
                f"img_info['filename']={name!r}); check data_root/img_prefix in the config and "
                f"that the dataset images are in place"
            ) from None
        img = imfrombytes(content, flag=self.color_type, channel_order=self.channel_order)
        if img is None:
            raise ValueError(
                f"cannot decode image file {filename} ({len(content)} bytes): it is empty, "
                f"corrupt or not an image; replace the file or remove it from the annotations"
            )
        results["filename"] = filename
        results["ori_filename"] = name
        return _set_image(results, img, self.to_float32)

    def __repr__(self) -> str:
        return format_repr(self, "to_float32", "color_type", "channel_order",
                           "file_client_args")


@TRANSFORMS.register_module()
class LoadImageFromWebcam(LoadImageFromFile):
    """Take an already decoded image from ``results['img']`` (inference on arrays).

    Sets ``filename`` and ``ori_filename`` to ``None`` and the same shape keys as
    :class:`LoadImageFromFile`.
    """

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        img = results.get("img")
        if not isinstance(img, np.ndarray):
            raise TypeError(f"{type(self).__name__} needs a numpy image in results['img'], "
                            f"got {type(img).__name__}")
        results["filename"] = None
        results["ori_filename"] = None
        return _set_image(results, img, self.to_float32)


@TRANSFORMS.register_module()
class LoadAnnotations:
    """Copy ``ann_info``'s boxes, labels, masks and segmentation map into ``results``.

    Reads ``ann_info`` = ``dict(bboxes=float32[N, 4], labels=int64[N],
    bboxes_ignore=float32[K, 4], masks=[segmentation of each box], seg_map=file name)`` (as
    the datasets' ``get_ann_info``) and appends keys to ``bbox_fields`` / ``mask_fields`` /
    ``seg_fields``.

    Args:
        with_bbox: load ``gt_bboxes`` (and ``gt_bboxes_ignore`` when present).
        with_label: load ``gt_labels``.
        with_mask: load ``gt_masks`` from COCO segmentations (polygons, RLE, uncompressed
            RLE): :class:`BitmapMasks` (``uint8[N, H, W]``) with ``poly2mask``, else
            :class:`PolygonMasks` (polygons with fewer than 3 points are dropped; RLE is not
            allowed there).
        with_seg: read ``seg_prefix / seg_map`` (any image file, read unchanged) into
            ``gt_semantic_seg`` ``[H, W]``.
        poly2mask: rasterise polygons into bitmaps.
        denorm_bbox: boxes are relative (0-1); multiply by the image size (OpenImages).
        file_client_args: accepted for MMDetection configs; files are read from local disk.
    """

    def __init__(self, with_bbox: bool = True, with_label: bool = True, with_mask: bool = False,
                 with_seg: bool = False, poly2mask: bool = True, denorm_bbox: bool = False,
                 file_client_args: dict | None = None) -> None:
        self.with_bbox = with_bbox
        self.with_label = with_label
        self.with_mask = with_mask
        self.with_seg = with_seg
        self.poly2mask = poly2mask
        self.denorm_bbox = denorm_bbox
        self.file_client_args = dict(backend="disk") if file_client_args is None \
            else dict(file_client_args)

    def _ann(self, results: dict, key: str) -> Any:
        ann = results.get("ann_info")
        if ann is None or key not in ann:
            name = results.get("img_info", {}).get("filename")
            raise KeyError(f"LoadAnnotations: results['ann_info'] has no '{key}' (image "
                           f"{name!r}); the dataset must give ann_info in train mode")
        return ann[key]

    def _load_bboxes(self, results: dict) -> None:
        bbox_fields = results.setdefault("bbox_fields", [])
        results["gt_bboxes"] = np.array(self._ann(results, "bboxes"), dtype=np.float32, copy=True)
        if self.denorm_bbox and len(results["gt_bboxes"]):
            h, w = results["img_shape"][:2]
            results["gt_bboxes"][:, 0::2] *= w
            results["gt_bboxes"][:, 1::2] *= h
        ignore = results["ann_info"].get("bboxes_ignore")
        if ignore is not None:
            results["gt_bboxes_ignore"] = np.array(ignore, dtype=np.float32, copy=True)
            bbox_fields.append("gt_bboxes_ignore")
        bbox_fields.append("gt_bboxes")
        group_ofs = results["ann_info"].get("gt_is_group_ofs")
        if group_ofs is not None:
            results["gt_is_group_ofs"] = group_ofs.copy()

    def _load_masks(self, results: dict) -> None:
        info = results["img_info"]
        h, w = info["height"], info["width"]
        segms = self._ann(results, "masks")
        name = info.get("filename")
        if self.poly2mask:
            bitmaps = []
            for i, segm in enumerate(segms):
                try:
                    bitmaps.append(segm_to_bitmap(segm, h, w))
                except (TypeError, ValueError) as err:
                    raise ValueError(f"LoadAnnotations: bad segmentation {i} of image "
                                     f"{name!r}: {err}") from err
            masks: Any = BitmapMasks(bitmaps, h, w)
        else:
            polys = []
            for i, segm in enumerate(segms):
                if not isinstance(segm, list):
                    raise ValueError(f"LoadAnnotations(poly2mask=False): segmentation {i} of "
                                     f"image {name!r} is RLE, not polygons; use "
                                     f"poly2mask=True for RLE annotations")
                arrays = [np.array(p) for p in segm]
                polys.append([p for p in arrays if len(p) % 2 == 0 and len(p) >= 6])
            masks = PolygonMasks(polys, h, w)
        results["gt_masks"] = masks
        results.setdefault("mask_fields", []).append("gt_masks")

    def _load_seg(self, results: dict) -> None:
        seg_map = self._ann(results, "seg_map")
        prefix = results.get("seg_prefix")
        filename = osp.join(prefix, seg_map) if prefix is not None else seg_map
        try:
            with open(filename, "rb") as f:
                content = f.read()
        except FileNotFoundError:
            raise FileNotFoundError(f"segmentation map not found: {filename} "
                                    f"(seg_prefix={prefix!r}, seg_map={seg_map!r}); check "
                                    f"seg_prefix in the config") from None
        seg = imfrombytes(content, flag="unchanged")
        if seg is None:
            raise ValueError(f"cannot decode segmentation map {filename}")
        results["gt_semantic_seg"] = seg.squeeze()
        results.setdefault("seg_fields", []).append("gt_semantic_seg")

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        if self.with_bbox:
            self._load_bboxes(results)
        if self.with_label:
            results["gt_labels"] = np.array(self._ann(results, "labels"), dtype=np.int64,
                                            copy=True)
        if self.with_mask:
            self._load_masks(results)
        if self.with_seg:
            self._load_seg(results)
        return results

    def __repr__(self) -> str:
        return format_repr(self, "with_bbox", "with_label", "with_mask", "with_seg",
                           "poly2mask", "denorm_bbox", "file_client_args")


@TRANSFORMS.register_module()
class LoadProposals:
    """Take ``results['proposals']`` (``[N, 4]`` or ``[N, 5]``) as boxes ``[N, 4]``.

    Args:
        num_max_proposals: keep at most this many (all when ``None``).
    """

    def __init__(self, num_max_proposals: int | None = None) -> None:
        self.num_max_proposals = num_max_proposals

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        proposals = results["proposals"]
        if proposals.ndim != 2 or proposals.shape[1] not in (4, 5):
            raise ValueError(f"proposals should have shape (n, 4) or (n, 5), got "
                             f"{proposals.shape}")
        proposals = proposals[:, :4]
        if self.num_max_proposals is not None:
            proposals = proposals[:self.num_max_proposals]
        if len(proposals) == 0:
            proposals = np.array([[0, 0, 0, 0]], dtype=np.float32)
        results["proposals"] = proposals
        results.setdefault("bbox_fields", []).append("proposals")
        return results

    def __repr__(self) -> str:
        return format_repr(self, "num_max_proposals")


@TRANSFORMS.register_module()
class FilterAnnotations:
    """Drop ground truths whose box is too small (``by_box``) or mask too small (``by_mask``).

    As MMDetection v2: with ``keep_empty=True`` an image left with no object is dropped
    (``None`` is returned); with ``False`` it is kept.

    Args:
        min_gt_bbox_wh: minimum ``(w, h)``; a box must be strictly larger on both.
        min_gt_mask_area: minimum mask area (``>=``).
        by_box: filter by box size.
        by_mask: filter by mask area.
        keep_empty: return ``None`` when nothing is left.
    """

    def __init__(self, min_gt_bbox_wh: Sequence[float] = (1.0, 1.0), min_gt_mask_area: int = 1,
                 by_box: bool = True, by_mask: bool = False, keep_empty: bool = True) -> None:
        if not (by_box or by_mask):
            raise ValueError("FilterAnnotations needs by_box or by_mask")
        self.min_gt_bbox_wh = tuple(min_gt_bbox_wh)
        self.min_gt_mask_area = min_gt_mask_area
        self.by_box = by_box
        self.by_mask = by_mask
        self.keep_empty = keep_empty

    def __call__(self, results: dict[str, Any]) -> dict[str, Any] | None:
        for flag, key in ((self.by_box, "gt_bboxes"), (self.by_mask, "gt_masks")):
            if flag and key not in results:
                raise KeyError(f"FilterAnnotations needs '{key}'; put it after "
                               f"LoadAnnotations" + (" with with_mask=True"
                                                     if key == "gt_masks" else ""))
        num = len(results["gt_masks"]) if self.by_mask else results["gt_bboxes"].shape[0]
        if num == 0:
            return results
        keep = np.ones(num, dtype=bool)
        if self.by_box:
            boxes = results["gt_bboxes"]
            w = boxes[:, 2] - boxes[:, 0]
            h = boxes[:, 3] - boxes[:, 1]
            keep &= (w > self.min_gt_bbox_wh[0]) & (h > self.min_gt_bbox_wh[1])
        if self.by_mask:
            keep &= results["gt_masks"].areas >= self.min_gt_mask_area
        keep = keep.nonzero()[0]
        for key in ("gt_bboxes", "gt_labels", "gt_masks"):
            if key in results:
                results[key] = results[key][keep]
        if keep.size == 0 and self.keep_empty:
            return None
        return results

    def __repr__(self) -> str:
        return format_repr(self, "min_gt_bbox_wh", "min_gt_mask_area", "by_box", "by_mask",
                           "keep_empty")
