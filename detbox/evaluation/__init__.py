"""Evaluation: COCO and VOC metrics, proposal recall, the test loops and the eval hooks.

Datasets call :func:`coco_evaluate` / :func:`voc_evaluate` from their ``evaluate``; the
training loop registers :class:`EvalHook` / :class:`DistEvalHook`. The hooks build on the
engine's ``Hook``, so they load on first use (``from detbox.evaluation import EvalHook``, or
importing ``detbox.evaluation.eval_hooks``, which also puts them in ``HOOKS``): importing the
metrics does not import the engine.
"""

import importlib
from typing import Any

from .bbox_overlaps import bbox_overlaps
from .class_names import coco_classes, get_classes, voc_classes
from .coco_json import format_results, results2json
from .coco_metric import COCO_METRIC_NAMES, build_coco, coco_evaluate, fast_eval_recall
from .inference_loop import multi_gpu_test, single_gpu_test
from .mean_ap import average_precision, eval_map, print_map_summary, tpfp_default
from .recall import eval_recalls, print_recall_summary
from .report import format_table, get_eval_logger, print_log
from .voc_metric import custom_evaluate, voc_evaluate

__all__ = [
    "bbox_overlaps", "coco_classes", "get_classes", "voc_classes", "format_results",
    "results2json", "COCO_METRIC_NAMES", "build_coco", "coco_evaluate", "fast_eval_recall",
    "DistEvalHook", "EvalHook", "multi_gpu_test", "single_gpu_test", "average_precision",
    "eval_map", "print_map_summary", "tpfp_default", "eval_recalls", "print_recall_summary",
    "format_table", "get_eval_logger", "print_log", "voc_evaluate", "custom_evaluate",
]

_LAZY = {"EvalHook": ".eval_hooks", "DistEvalHook": ".eval_hooks"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
