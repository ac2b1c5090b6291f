"""``Albu``: run an albumentations pipeline inside a detbox pipeline, boxes kept in step.

albumentations is an optional dependency, imported when an ``Albu`` is built.
"""

from __future__ import annotations

import copy
import importlib
import inspect
from typing import Any

import numpy as np

from ...registry import TRANSFORMS
from ._common import check_no_masks

__all__ = ["Albu"]


def _import_albumentations():
    try:
        return importlib.import_module("albumentations")
    except ImportError as err:
        raise ImportError(
            "the Albu transform needs the optional package albumentations; install it with "
            "`pip install albumentations` or remove Albu from the pipeline"
        ) from err


@TRANSFORMS.register_module()
class Albu:
    """Apply albumentations transforms to ``img`` and ``gt_bboxes`` (MMDetection v2's wrapper).

    Example config (boxes in ``pascal_voc`` = xyxy pixels; labels filtered with them)::

        dict(type='Albu',
             transforms=[dict(type='RandomBrightnessContrast', p=0.2)],
             bbox_params=dict(type='BboxParams', format='pascal_voc',
                              label_fields=['gt_labels'], min_visibility=0.0,
                              filter_lost_elements=True),
             keymap=dict(img='image', gt_bboxes='bboxes'),
             update_pad_shape=False, skip_img_without_anno=True)

    Args:
        transforms: albumentations transform configs (``type`` is the class name; nested
            ``transforms`` lists, as in ``OneOf``, are built too).
        bbox_params: a ``BboxParams`` config; ``filter_lost_elements=True`` also drops the
            labels of boxes albumentations removes.
        keymap: results key -> albumentations key (default ``img->image``,
            ``gt_bboxes->bboxes``, ``gt_masks->masks``).
        update_pad_shape: set ``pad_shape`` to the output image shape.
        skip_img_without_anno: drop the sample (``None``) when no box is left.
    """

    def __init__(self, transforms: list[dict], bbox_params: dict | None = None,
                 keymap: dict | None = None, update_pad_shape: bool = False,
                 skip_img_without_anno: bool = False) -> None:
        self._albu = _import_albumentations()
        self.transforms = copy.deepcopy(transforms)
        bbox_params = copy.deepcopy(bbox_params)
        self.filter_lost_elements = False
        self.update_pad_shape = update_pad_shape
        self.skip_img_without_anno = skip_img_without_anno
        if (isinstance(bbox_params, dict) and "label_fields" in bbox_params
                and "filter_lost_elements" in bbox_params):
            self.filter_lost_elements = True
            self.origin_label_fields = bbox_params["label_fields"]
            bbox_params["label_fields"] = ["idx_mapper"]
            del bbox_params["filter_lost_elements"]
        self.bbox_params = self.albu_builder(bbox_params) if bbox_params else None
        self.aug = self._albu.Compose([self.albu_builder(t) for t in self.transforms],
                                      bbox_params=self.bbox_params)
        self.keymap_to_albu = dict(keymap) if keymap else {
            "img": "image", "gt_masks": "masks", "gt_bboxes": "bboxes"}
        self.keymap_back = {v: k for k, v in self.keymap_to_albu.items()}

    def albu_builder(self, cfg: dict) -> Any:
        """Build an albumentations object from ``dict(type=..., **args)``."""
        if not isinstance(cfg, dict) or "type" not in cfg:
            raise TypeError(f"Albu: each transform must be a dict with 'type', got {cfg!r}")
        args = dict(cfg)
        obj_type = args.pop("type")
        if isinstance(obj_type, str):
            cls = getattr(self._albu, obj_type, None)
            if cls is None:
                raise KeyError(f"Albu: albumentations {self._albu.__version__} has no "
                               f"'{obj_type}' (renamed or removed in this version? configs "
                               f"written for MMDetection 2.x used albumentations 0.x-1.x)")
        elif inspect.isclass(obj_type):
            cls = obj_type
        else:
            raise TypeError(f"type must be a str or a class, got {type(obj_type).__name__}")
        if "transforms" in args:
            args["transforms"] = [self.albu_builder(t) for t in args["transforms"]]
        return cls(**args)

    @staticmethod
    def mapper(d: dict, keymap: dict) -> dict:
        """``d`` with its keys renamed through ``keymap`` (others kept)."""
        return {keymap.get(k, k): v for k, v in d.items()}

    def __call__(self, results: dict[str, Any]) -> dict[str, Any] | None:
        check_no_masks(results, "Albu")
        old_shape = results["img"].shape if "img" in results else None
        results = self.mapper(results, self.keymap_to_albu)
        if "bboxes" in results:
            if isinstance(results["bboxes"], np.ndarray):
                results["bboxes"] = [b for b in results["bboxes"]]
            if self.filter_lost_elements:
                results["idx_mapper"] = np.arange(len(results["bboxes"]))
        results = self.aug(**results)
        if "bboxes" in results:
            results["bboxes"] = np.array(results["bboxes"], dtype=np.float32).reshape(-1, 4)
            if self.filter_lost_elements:
                kept = [int(i) for i in results.pop("idx_mapper")]
                for label in self.origin_label_fields:
                    results[label] = np.array([results[label][i] for i in kept])
                if not kept and self.skip_img_without_anno:
                    return None
        if "gt_labels" in results:
            results["gt_labels"] = np.asarray(results["gt_labels"]).astype(np.int64)
        results = self.mapper(results, self.keymap_back)
        if results["img"].shape != old_shape:  # a size-changing albumentation (v2 misses this)
            results["img_shape"] = results["img"].shape
        if self.update_pad_shape:
            results["pad_shape"] = results["img"].shape
        return results

    def __repr__(self) -> str:
        return (f"Albu(transforms={self.transforms!r}, update_pad_shape={self.update_pad_shape}, "
                f"skip_img_without_anno={self.skip_img_without_anno})")
