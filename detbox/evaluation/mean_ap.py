"""PASCAL-VOC style mean average precision, as MMDetection v2's ``eval_map`` computes it.

Per class: every detection of every image is marked a true or false positive (greedy
matching in score order, :func:`tpfp_default`), the marks are sorted by score over the whole
data set, and AP is the area under the precision envelope (``'area'``) or the mean of the
best precision at recall ``0, 0.1, ..., 1`` (``'11points'``, VOC2007). mAP averages the classes
that have ground truth.

>>> r = np.array([0.5, 0.5, 1.0]); p = np.array([1.0, 0.5, 2 / 3])
>>> round(float(average_precision(r, p, 'area')), 4)
0.8333
>>> round(float(average_precision(r, p, '11points')), 4)
0.8485
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Sequence

import numpy as np

from .bbox_overlaps import bbox_overlaps
from .class_names import get_classes
from .report import format_table, print_log

__all__ = ["average_precision", "tpfp_default", "get_cls_results", "eval_map",
           "print_map_summary"]

_IMAGENET_NAMES = ("det", "vid")
_OPENIMAGES_NAMES = ("oid_challenge", "oid_v6")


def average_precision(recalls: np.ndarray, precisions: np.ndarray,
                      mode: str = "area") -> np.ndarray | np.float32:
    """AP from a precision/recall curve, for one or several scale ranges.

    Args:
        recalls: ``ndarray[S, D]`` or ``ndarray[D]``: recall after each detection (score order).
        precisions: same shape as ``recalls``.
        mode: ``'area'`` (area under the monotone precision envelope) or ``'11points'``
            (mean over recall thresholds ``0, 0.1, ..., 1`` of the best precision at or beyond).

    Returns:
        ``ndarray[S]`` float32, or a float32 scalar for 1-D input.
    """
    single = recalls.ndim == 1
    if single:
        recalls, precisions = recalls[None], precisions[None]
    if recalls.shape != precisions.shape or recalls.ndim != 2:
        raise ValueError(f"recalls and precisions must have the same 1-D or 2-D shape, got "
                         f"{recalls.shape} and {precisions.shape}")
    num_scales = recalls.shape[0]
    ap = np.zeros(num_scales, dtype=np.float32)
    if mode == "area":
        zeros = np.zeros((num_scales, 1), dtype=recalls.dtype)
        ones = np.ones((num_scales, 1), dtype=recalls.dtype)
        mrec = np.hstack((zeros, recalls, ones))
        mpre = np.hstack((zeros, precisions, zeros))
        # precision envelope: the best precision at this recall or any higher one
        mpre = np.flip(np.maximum.accumulate(np.flip(mpre, axis=1), axis=1), axis=1)
        for i in range(num_scales):
            steps = np.where(mrec[i, 1:] != mrec[i, :-1])[0]
            ap[i] = np.sum((mrec[i, steps + 1] - mrec[i, steps]) * mpre[i, steps + 1])
    elif mode == "11points":
        for i in range(num_scales):
            for thr in np.arange(0, 1 + 1e-3, 0.1):
                precs = precisions[i, recalls[i, :] >= thr]
                ap[i] += precs.max() if precs.size > 0 else 0
        ap /= 11
    else:
        raise ValueError(f"mode must be 'area' or '11points', got {mode!r}")
    return ap[0] if single else ap


def tpfp_default(det_bboxes: np.ndarray, gt_bboxes: np.ndarray,
                 gt_bboxes_ignore: np.ndarray | None = None, iou_thr: float = 0.5,
                 area_ranges: Sequence[tuple] | None = None,
                 use_legacy_coordinate: bool = False, **kwargs: Any
                 ) -> tuple[np.ndarray, np.ndarray]:
    """True/false-positive marks of one image's detections of one class.

    Detections are visited by descending score; each takes the ground truth it overlaps most.
    It is a TP if that IoU >= ``iou_thr`` and the box is not yet taken, a FP if the box is
    taken or the IoU is too low; a detection whose best box is ignored (``gt_bboxes_ignore``,
    or outside the scale range) counts as neither. With scale ranges, an unmatched detection
    is a FP only if its own area is inside the range.

    Args:
        det_bboxes: ``ndarray[M, 5]`` xyxy + score.
        gt_bboxes: ``ndarray[N, 4]`` xyxy.
        gt_bboxes_ignore: ``ndarray[K, 4]`` xyxy boxes that neither reward nor punish.
        iou_thr: IoU needed for a match.
        area_ranges: ``[(min_area, max_area), ...]`` or ``None`` (everything).
        use_legacy_coordinate: ``+1`` widths/heights (PASCAL VOC devkit convention).
        **kwargs: ignored (the arguments other matchers take).

    Returns:
        ``(tp, fp)``, each ``ndarray[S, M]`` float32 of 0/1 in the input's detection order.
    """
    if det_bboxes.shape[0] == 0:  # nothing to mark (the common case: class absent)
        num_scales = 1 if area_ranges is None else len(area_ranges)
        return (np.zeros((num_scales, 0), dtype=np.float32),
                np.zeros((num_scales, 0), dtype=np.float32))
    extra = 1.0 if use_legacy_coordinate else 0.0
    if gt_bboxes_ignore is None:
        gt_bboxes_ignore = np.zeros((0, 4), dtype=np.float32)
    gt_ignore_inds = np.concatenate((np.zeros(gt_bboxes.shape[0], dtype=bool),
                                     np.ones(gt_bboxes_ignore.shape[0], dtype=bool)))
    gt_bboxes = np.vstack((gt_bboxes, gt_bboxes_ignore))
    num_dets, num_gts = det_bboxes.shape[0], gt_bboxes.shape[0]
    if area_ranges is None:
        area_ranges = [(None, None)]
    num_scales = len(area_ranges)
    tp = np.zeros((num_scales, num_dets), dtype=np.float32)
    fp = np.zeros((num_scales, num_dets), dtype=np.float32)

    if num_gts == 0:  # every detection in the range is a false positive
        if area_ranges == [(None, None)]:
            fp[...] = 1
        else:
            det_areas = ((det_bboxes[:, 2] - det_bboxes[:, 0] + extra)
                         * (det_bboxes[:, 3] - det_bboxes[:, 1] + extra))
            for i, (min_area, max_area) in enumerate(area_ranges):
                fp[i, (det_areas >= min_area) & (det_areas < max_area)] = 1
        return tp, fp

    ious = bbox_overlaps(det_bboxes, gt_bboxes, use_legacy_coordinate=use_legacy_coordinate)
    ious_max = ious.max(axis=1)  # [M]
    ious_argmax = ious.argmax(axis=1)  # [M]
    sort_inds = np.argsort(-det_bboxes[:, -1])
    for k, (min_area, max_area) in enumerate(area_ranges):
        gt_covered = np.zeros(num_gts, dtype=bool)
        if min_area is None:
            gt_area_ignore = np.zeros_like(gt_ignore_inds, dtype=bool)
        else:
            gt_areas = ((gt_bboxes[:, 2] - gt_bboxes[:, 0] + extra)
                        * (gt_bboxes[:, 3] - gt_bboxes[:, 1] + extra))
            gt_area_ignore = (gt_areas < min_area) | (gt_areas >= max_area)
        for i in sort_inds:
            if ious_max[i] >= iou_thr:
                matched = ious_argmax[i]
                if not (gt_ignore_inds[matched] or gt_area_ignore[matched]):
                    if not gt_covered[matched]:
                        gt_covered[matched] = True
                        tp[k, i] = 1
                    else:
                        fp[k, i] = 1
            elif min_area is None:
                fp[k, i] = 1
            else:
                box = det_bboxes[i, :4]
                area = (box[2] - box[0] + extra) * (box[3] - box[1] + extra)
                if min_area <= area < max_area:
                    fp[k, i] = 1
    return tp, fp


def get_cls_results(det_results: Sequence[Sequence[np.ndarray]], annotations: Sequence[dict],
                    class_id: int) -> tuple[list, list, list]:
    """One class's detections, ground truths and ignored ground truths, per image.

    Ignored boxes count for a class only when the annotation has ``labels_ignore``
    (as in v2; COCO-style ``bboxes_ignore`` without labels is not used).
    """
    cls_dets = [img_res[class_id] for img_res in det_results]
    cls_gts, cls_gts_ignore = [], []
    for ann in annotations:
        cls_gts.append(ann["bboxes"][ann["labels"] == class_id, :])
        if ann.get("labels_ignore", None) is not None:
            cls_gts_ignore.append(ann["bboxes_ignore"][ann["labels_ignore"] == class_id, :])
        else:
            cls_gts_ignore.append(np.empty((0, 4), dtype=np.float32))
    return cls_dets, cls_gts, cls_gts_ignore


def _check_inputs(det_results: Sequence, annotations: Sequence[dict]) -> int:
    if len(det_results) != len(annotations):
        raise ValueError(f"eval_map: {len(det_results)} detection results but "
                         f"{len(annotations)} annotations; they must be per image, in order")
    if len(det_results) == 0:
        raise ValueError("eval_map: no images to evaluate (det_results is empty)")
    num_classes = len(det_results[0])
    for i, (res, ann) in enumerate(zip(det_results, annotations)):
        if len(res) != num_classes:
            raise ValueError(f"eval_map: image {i} has results for {len(res)} classes, image 0 "
                             f"for {num_classes}")
        for key in ("bboxes", "labels"):
            if key not in ann:
                raise KeyError(f"eval_map: annotation of image {i} has no {key!r} "
                               f"(keys: {sorted(ann)})")
        for c, dets in enumerate(res):
            if dets.ndim != 2 or dets.shape[1] != 5:
                raise ValueError(f"eval_map: image {i}, class {c}: detections must be "
                                 f"ndarray[n, 5] (x1, y1, x2, y2, score), got shape {dets.shape}")
    return num_classes


def _count_gts(cls_gts: list[np.ndarray], area_ranges: list | None, extra: float) -> np.ndarray:
    num_gts = np.zeros(1 if area_ranges is None else len(area_ranges), dtype=int)
    for bbox in cls_gts:
        if area_ranges is None:
            num_gts[0] += bbox.shape[0]
        else:
            areas = (bbox[:, 2] - bbox[:, 0] + extra) * (bbox[:, 3] - bbox[:, 1] + extra)
            for k, (min_area, max_area) in enumerate(area_ranges):
                num_gts[k] += np.sum((areas >= min_area) & (areas < max_area))
    return num_gts


def eval_map(det_results: Sequence[Sequence[np.ndarray]], annotations: Sequence[dict],
             scale_ranges: Sequence[tuple] | None = None, iou_thr: float = 0.5,
             ioa_thr: float | None = None, dataset: Sequence[str] | str | None = None,
             logger: logging.Logger | str | None = None, tpfp_fn: Callable | None = None,
             nproc: int = 4, use_legacy_coordinate: bool = False,
             use_group_of: bool = False) -> tuple[float | list[float], list[dict]]:
    """mAP of a data set (MMDetection v2's ``eval_map``).

    Args:
        det_results: per image, a list over classes of ``ndarray[n, 5]`` (xyxy + score).
        annotations: per image, ``dict(bboxes=ndarray[N, 4], labels=ndarray[N])`` and optionally
            ``bboxes_ignore=ndarray[K, 4]`` with ``labels_ignore=ndarray[K]``.
        scale_ranges: ``[(min, max), ...]`` side lengths; a box is in range when
            ``min**2 <= area < max**2``. ``None`` for a single all-sizes range.
        iou_thr: IoU needed for a match.
        ioa_thr: Open Images IoA threshold (not supported; must be ``None``).
        dataset: class names, or a data set name. ``'voc07'`` selects 11-point AP; named data
            sets label the summary table with their classes.
        logger: where the summary table goes (``'silent'``: nowhere); see :func:`print_log`.
        tpfp_fn: the TP/FP matcher, called as ``tpfp_fn(dets, gts, gts_ignore, iou_thr,
            area_ranges, use_legacy_coordinate)``; :func:`tpfp_default` by default.
        nproc: kept for v2 compatibility; images are processed in this process, one by one.
        use_legacy_coordinate: ``+1`` widths/heights (PASCAL VOC devkit convention).
        use_group_of: Open Images group-of matching (not supported; must be ``False``).

    Returns:
        ``(mean_ap, eval_results)``: ``mean_ap`` is a float (a list of floats, one per scale
        range, with ``scale_ranges``); ``eval_results`` has per class a dict with
        ``num_gts``, ``num_dets``, ``recall``, ``precision`` and ``ap``.
    """
    if use_group_of or ioa_thr is not None or dataset in _OPENIMAGES_NAMES:
        raise NotImplementedError("eval_map: Open Images matching (use_group_of, ioa_thr, "
                                  "oid_*) is not implemented in detbox")
    if tpfp_fn is None and dataset in _IMAGENET_NAMES:
        raise NotImplementedError(f"eval_map: ImageNet {dataset!r} matching (tpfp_imagenet) "
                                  f"is not implemented in detbox; pass tpfp_fn")
    tpfp_fn = tpfp_default if tpfp_fn is None else tpfp_fn
    if not callable(tpfp_fn):
        raise ValueError(f"tpfp_fn must be a function or None, got {tpfp_fn!r}")
    if nproc <= 0:
        raise ValueError(f"nproc must be at least one, got {nproc}")
    num_classes = _check_inputs(det_results, annotations)
    extra = 1.0 if use_legacy_coordinate else 0.0
    area_ranges = ([(rg[0] ** 2, rg[1] ** 2) for rg in scale_ranges]
                   if scale_ranges is not None else None)
    mode = "11points" if dataset == "voc07" else "area"

    eval_results = []
    for c in range(num_classes):
        cls_dets, cls_gts, cls_gts_ignore = get_cls_results(det_results, annotations, c)
        tpfp = [tpfp_fn(d, g, gi, iou_thr, area_ranges, use_legacy_coordinate)
                for d, g, gi in zip(cls_dets, cls_gts, cls_gts_ignore)]
        tp, fp = tuple(zip(*tpfp))
        num_gts = _count_gts(cls_gts, area_ranges, extra)
        dets = np.vstack(cls_dets)
        sort_inds = np.argsort(-dets[:, -1])
        tp = np.cumsum(np.hstack(tp)[:, sort_inds], axis=1)  # [S, D]
        fp = np.cumsum(np.hstack(fp)[:, sort_inds], axis=1)
        eps = np.finfo(np.float32).eps
        recalls = tp / np.maximum(num_gts[:, None], eps)
        precisions = tp / np.maximum(tp + fp, eps)
        if scale_ranges is None:
            recalls, precisions, num_gts = recalls[0, :], precisions[0, :], num_gts.item()
        eval_results.append(dict(num_gts=num_gts, num_dets=dets.shape[0], recall=recalls,
                                 precision=precisions,
                                 ap=average_precision(recalls, precisions, mode)))

    if scale_ranges is not None:
        all_ap = np.vstack([r["ap"] for r in eval_results])  # [C, S]
        all_num_gts = np.vstack([r["num_gts"] for r in eval_results])
        mean_ap: float | list[float] = [
            all_ap[all_num_gts[:, i] > 0, i].mean() if np.any(all_num_gts[:, i] > 0) else 0.0
            for i in range(len(scale_ranges))]
    else:
        aps = [r["ap"] for r in eval_results if r["num_gts"] > 0]
        mean_ap = np.array(aps).mean().item() if aps else 0.0

    print_map_summary(mean_ap, eval_results, dataset, area_ranges, logger=logger)
    return mean_ap, eval_results


def print_map_summary(mean_ap: float | list[float], results: list[dict],
                      dataset: Sequence[str] | str | None = None,
                      scale_ranges: Sequence[tuple] | None = None,
                      logger: logging.Logger | str | None = None) -> None:
    """Log a table of ground truths, detections, recall and AP per class, and the mAP.

    Args:
        mean_ap: from :func:`eval_map`.
        results: the per-class dicts from :func:`eval_map`.
        dataset: class names, a data set name (``'voc'``, ``'coco'``...) or ``None`` (indices).
        scale_ranges: the area ranges, to title each scale's table.
        logger: see :func:`print_log`; ``'silent'`` logs nothing.
    """
    if logger == "silent":
        return
    num_scales = len(results[0]["ap"]) if isinstance(results[0]["ap"], np.ndarray) else 1
    if scale_ranges is not None and len(scale_ranges) != num_scales:
        raise ValueError(f"{len(scale_ranges)} scale ranges for {num_scales} AP columns")
    num_classes = len(results)
    recalls = np.zeros((num_scales, num_classes), dtype=np.float32)
    aps = np.zeros((num_scales, num_classes), dtype=np.float32)
    num_gts = np.zeros((num_scales, num_classes), dtype=int)
    for i, res in enumerate(results):
        if res["recall"].size > 0:
            recalls[:, i] = np.array(res["recall"], ndmin=2)[:, -1]
        aps[:, i] = res["ap"]
        num_gts[:, i] = res["num_gts"]

    if dataset is None:
        names = [str(i) for i in range(num_classes)]
    elif isinstance(dataset, str):
        names = list(get_classes(dataset))
    else:
        names = list(dataset)
    if len(names) < num_classes:
        names += [str(i) for i in range(len(names), num_classes)]
    means = mean_ap if isinstance(mean_ap, list) else [mean_ap]

    for s in range(num_scales):
        if scale_ranges is not None:
            print_log(f"Scale range {scale_ranges[s]}", logger=logger)
        rows: list[list] = [["class", "gts", "dets", "recall", "ap"]]
        for j in range(num_classes):
            rows.append([names[j], num_gts[s, j], results[j]["num_dets"],
                         f"{recalls[s, j]:.3f}", f"{aps[s, j]:.3f}"])
        rows.append(["mAP", "", "", "", f"{means[s]:.3f}"])
        print_log("\n" + format_table(rows, footer=True), logger=logger)
