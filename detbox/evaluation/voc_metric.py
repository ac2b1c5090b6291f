"""PASCAL VOC evaluation of a data set, v2's ``VOCDataset.evaluate`` (and the base
``CustomDataset.evaluate``), as plain functions.

``'mAP'`` runs :func:`eval_map` at each IoU threshold with the devkit's ``+1`` pixel
convention; VOC2007 uses 11-point AP, anything else the area under the curve. It returns
``mAP`` (mean over the thresholds) first, then ``AP50``, ``AP75``... (rounded to 3 places).
``'recall'`` returns ``recall@<n>@<iou>`` and, with several thresholds, ``AR@<n>``.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Sequence

import numpy as np

from .mean_ap import eval_map, print_map_summary
from .recall import eval_recalls
from .report import print_log

__all__ = ["voc_evaluate", "custom_evaluate"]


def _evaluate(results: list, annotations: Sequence[dict], class_names: Sequence[str],
              metric: str | list[str], logger: logging.Logger | str | None,
              proposal_nums: Sequence[int], iou_thr: float | Sequence[float],
              map_dataset: str | list[str],
              legacy: bool, map_first: bool) -> OrderedDict:
    if not isinstance(metric, str):
        if len(metric) != 1:
            raise ValueError(f"this evaluation takes one metric, got {metric}")
        metric = metric[0]
    if metric not in ("mAP", "recall"):
        raise KeyError(f"metric {metric!r} is not supported; choose 'mAP' or 'recall'")
    if len(results) != len(annotations):
        raise ValueError(f"the length of results is not equal to the dataset len: "
                         f"{len(results)} != {len(annotations)}")
    iou_thrs = [iou_thr] if isinstance(iou_thr, (float, int)) else list(iou_thr)
    eval_results: OrderedDict = OrderedDict()
    if metric == "mAP":
        mean_aps = []
        for thr in iou_thrs:
            print_log(f"\n{'-' * 15}iou_thr: {thr}{'-' * 15}", logger=logger)
            mean_ap, per_class = eval_map(results, annotations, iou_thr=thr,
                                          dataset=map_dataset, logger="silent",
                                          use_legacy_coordinate=legacy)
            print_map_summary(mean_ap, per_class, list(class_names), logger=logger)
            mean_aps.append(mean_ap)
            eval_results[f"AP{int(thr * 100):02d}"] = round(mean_ap, 3)
        eval_results["mAP"] = sum(mean_aps) / len(mean_aps)
        if map_first:
            eval_results.move_to_end("mAP", last=False)
    else:
        gt_bboxes = [ann["bboxes"] for ann in annotations]
        recalls = eval_recalls(gt_bboxes, results, proposal_nums, iou_thrs, logger=logger,
                               use_legacy_coordinate=legacy)
        for i, num in enumerate(proposal_nums):
            for j, thr in enumerate(iou_thrs):
                eval_results[f"recall@{num}@{thr}"] = float(recalls[i, j])
        if recalls.shape[1] > 1:
            ar = np.asarray(recalls).mean(axis=1)
            for i, num in enumerate(proposal_nums):
                eval_results[f"AR@{num}"] = float(ar[i])
    return eval_results


def voc_evaluate(results: list, annotations: Sequence[dict], class_names: Sequence[str],
                 year: int | None = None, metric: str | list[str] = "mAP",
                 logger: logging.Logger | str | None = None,
                 proposal_nums: Sequence[int] = (100, 300, 1000),
                 iou_thr: float | Sequence[float] = 0.5,
                 scale_ranges: Sequence[tuple] | None = None) -> OrderedDict:
    """Evaluate results in the VOC protocol (v2's ``VOCDataset.evaluate``).

    Args:
        results: per image a list over classes of ``ndarray[n, 5]`` (``'mAP'``), or one
            ``ndarray[n, 4 or 5]`` of proposals (``'recall'``).
        annotations: per image ``dataset.get_ann_info(i)``: ``bboxes``, ``labels`` and
            optionally ``bboxes_ignore`` / ``labels_ignore`` (VOC's difficult objects).
        class_names: the data set's ``CLASSES`` (labels of the summary table).
        year: 2007 selects 11-point AP; 2012 or ``None`` (other VOC-layout data) area AP.
        metric: ``'mAP'`` or ``'recall'`` (or a one-element list).
        logger: where the tables go; see :func:`~detbox.evaluation.report.print_log`.
        proposal_nums: proposal counts for ``'recall'``.
        iou_thr: one IoU threshold or a list.
        scale_ranges: accepted for v2 compatibility and ignored, as v2's VOC evaluation does.

    Returns:
        An ``OrderedDict``: ``mAP`` first, then ``AP50``...; or the recall keys.
    """
    if scale_ranges is not None:
        print_log("VOC evaluation ignores scale_ranges (as MMDetection v2 does)", logger=logger,
                  level=logging.WARNING)
    return _evaluate(results, annotations, class_names, metric, logger, proposal_nums, iou_thr,
                     "voc07" if year == 2007 else list(class_names), legacy=True,
                     map_first=True)


def custom_evaluate(results: list, annotations: Sequence[dict], class_names: Sequence[str],
                    metric: str | list[str] = "mAP", logger: logging.Logger | str | None = None,
                    proposal_nums: Sequence[int] = (100, 300, 1000),
                    iou_thr: float | Sequence[float] = 0.5,
                    scale_ranges: Sequence[tuple] | None = None) -> OrderedDict:
    """v2's ``CustomDataset.evaluate``: like :func:`voc_evaluate` but with area AP, exclusive
    pixel coordinates (no ``+1``) and the ``AP50``... keys before ``mAP``.

    Args:
        scale_ranges: not supported with ``'mAP'`` (v2 fails on it too: its per-threshold
            result becomes a list); must be ``None``.
        Others: as :func:`voc_evaluate`.
    """
    if scale_ranges is not None and (metric == "mAP" or metric == ["mAP"]):
        raise ValueError("scale_ranges is not supported by the 'mAP' evaluation of a custom "
                         "dataset (MMDetection v2 fails on it too); use eval_map directly")
    return _evaluate(results, annotations, class_names, metric, logger, proposal_nums, iou_thr,
                     list(class_names), legacy=False, map_first=False)
