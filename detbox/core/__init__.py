"""MMDetection v2's ``mmdet.core``: the helpers user code imports, at their v2 module path.

detbox keeps these in their role packages (box ops in :mod:`detbox.ops`, masks in
:mod:`detbox.structures.masks`, assigners, coders, samplers and prior generators in
:mod:`detbox.models.task_modules`, evaluation in :mod:`detbox.evaluation`); this module only
names them the v2 way. Names load on first use.

>>> from detbox.core import build_bbox_coder
>>> type(build_bbox_coder(dict(type='DeltaXYWHBBoxCoder'))).__name__
'DeltaXYWHBBoxCoder'
"""

from __future__ import annotations

import importlib
from typing import Any

from ..registry import TASK_UTILS

__all__ = [
    "bbox2result", "multiclass_nms", "bbox_overlaps", "bbox2roi", "roi2bbox", "bbox_flip",
    "bbox_mapping", "bbox_mapping_back", "distance2bbox", "bbox2distance",
    "bbox_cxcywh_to_xyxy", "bbox_xyxy_to_cxcywh", "bbox_rescale", "multi_apply", "unmap",
    "reduce_mean", "build_assigner", "build_sampler", "build_bbox_coder",
    "build_anchor_generator", "build_prior_generator", "build_iou_calculator",
    "AnchorGenerator", "MlvlPointGenerator", "DeltaXYWHBBoxCoder", "DistancePointBBoxCoder",
    "MaxIoUAssigner", "ATSSAssigner", "AssignResult", "BaseAssigner", "RandomSampler",
    "PseudoSampler", "SamplingResult", "BaseSampler", "BboxOverlaps2D", "DistEvalHook",
    "EvalHook", "eval_map", "eval_recalls", "get_classes", "coco_classes", "voc_classes",
    "BitmapMasks", "PolygonMasks", "BaseInstanceMasks", "encode_mask_results",
]

_OPS = ("bbox2result", "multiclass_nms", "bbox_overlaps", "bbox2roi", "roi2bbox", "bbox_flip",
        "bbox_mapping", "bbox_mapping_back", "distance2bbox", "bbox2distance",
        "bbox_cxcywh_to_xyxy", "bbox_xyxy_to_cxcywh", "bbox_rescale")
_TASK = ("AnchorGenerator", "MlvlPointGenerator", "DeltaXYWHBBoxCoder", "DistancePointBBoxCoder",
         "MaxIoUAssigner", "ATSSAssigner", "AssignResult", "BaseAssigner", "RandomSampler",
         "PseudoSampler", "SamplingResult", "BaseSampler", "BboxOverlaps2D")
_WHERE: dict[str, str] = {
    **{name: "detbox.ops" for name in _OPS},
    **{name: "detbox.models.task_modules" for name in _TASK},
    "multi_apply": "detbox.models.utils",
    "unmap": "detbox.models.utils",
    "reduce_mean": "detbox.models.dense_heads.head_utils",
    "DistEvalHook": "detbox.evaluation",
    "EvalHook": "detbox.evaluation",
    "eval_map": "detbox.evaluation",
    "eval_recalls": "detbox.evaluation",
    "get_classes": "detbox.evaluation",
    "coco_classes": "detbox.evaluation",
    "voc_classes": "detbox.evaluation",
    "BitmapMasks": "detbox.structures.masks",
    "PolygonMasks": "detbox.structures.masks",
    "BaseInstanceMasks": "detbox.structures.masks",
    "encode_mask_results": "detbox.structures.masks",
}


def _build(cfg: Any, default_args: dict | None = None) -> Any:
    import detbox.models  # noqa: F401  (registers the task modules)

    return TASK_UTILS.build(cfg, default_args)


build_assigner = build_sampler = build_bbox_coder = _build
build_anchor_generator = build_prior_generator = build_iou_calculator = _build


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
