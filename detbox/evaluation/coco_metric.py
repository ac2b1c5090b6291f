"""COCO bbox / proposal evaluation with MMDetection v2's metric keys and rounding.

:func:`coco_evaluate` is what ``CocoDataset.evaluate`` calls. Matching and accumulation run in
``faster-coco-eval`` (C++, same numbers as ``pycocotools``); the twelve summary stats are then
read from its precision / recall arrays with ``pycocotools``' own rules, so they equal what
v2 reports with ``pycocotools`` also where ``faster-coco-eval``'s summary differs (its
``stats[0]`` uses the largest ``maxDets``; ``pycocotools`` uses 100).

Returned keys, as v2: ``bbox_mAP``, ``bbox_mAP_50``, ``bbox_mAP_75``, ``bbox_mAP_s``,
``bbox_mAP_m``, ``bbox_mAP_l`` (``float(f'{x:.4f}')``) and ``bbox_mAP_copypaste``, the same
with ``segm_`` for masks (mask IoU; the entries' boxes are dropped so object sizes are mask
areas, as v2); for
``'proposal'`` ``AR@100``, ``AR@300``, ``AR@1000``, ``AR_s@1000``, ``AR_m@1000``,
``AR_l@1000``; for ``'proposal_fast'`` ``AR@<n>`` per proposal count. Beyond v2: with
``classwise=True`` also ``bbox_AP_<class name>`` (NaN for a class without ground truth), and
empty results give 0.0 for every key instead of no keys.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any, Sequence

import numpy as np

from .coco_json import check_results, results2entries, write_entries
from .recall import eval_recalls
from .report import format_table, get_eval_logger, print_log

__all__ = ["coco_evaluate", "fast_eval_recall", "summarize_coco_eval", "build_coco",
           "COCO_METRIC_NAMES"]

# index of each metric item in the 12 COCO stats
COCO_METRIC_NAMES = {
    "mAP": 0, "mAP_50": 1, "mAP_75": 2, "mAP_s": 3, "mAP_m": 4, "mAP_l": 5,
    "AR@100": 6, "AR@300": 7, "AR@1000": 8, "AR_s@1000": 9, "AR_m@1000": 10, "AR_l@1000": 11,
}
_DET_ITEMS = ["mAP", "mAP_50", "mAP_75", "mAP_s", "mAP_m", "mAP_l"]
_PROPOSAL_ITEMS = ["AR@100", "AR@300", "AR@1000", "AR_s@1000", "AR_m@1000", "AR_l@1000"]
_ALLOWED = ("bbox", "segm", "proposal", "proposal_fast")
_SIZE_TEXT = {"_s": "small (area < 32^2)", "_m": "medium (32^2 <= area < 96^2)",
              "_l": "large (area >= 96^2)"}


def build_coco(gt: Any) -> Any:
    """A ``faster_coco_eval.COCO`` from a COCO-format dict, a json path or a COCO object.

    A dict is indexed without being changed (its annotation and image dicts are copied, as
    the evaluator writes flags into them).
    """
    from faster_coco_eval import COCO

    if isinstance(gt, COCO):
        return gt
    if isinstance(gt, str):
        return COCO(gt)
    if not isinstance(gt, dict):
        raise TypeError(f"gt must be a COCO-format dict, a json path or a faster_coco_eval "
                        f"COCO, got {type(gt).__name__}")
    missing = [k for k in ("images", "annotations", "categories") if k not in gt]
    if missing:
        raise KeyError(f"the ground-truth dict lacks the COCO key(s) {missing}")
    data = dict(gt)
    data["images"] = [dict(x) for x in gt["images"]]
    data["annotations"] = [dict(x) for x in gt["annotations"]]
    coco = COCO()
    coco.dataset = data
    coco.createIndex()
    return coco


def _check_gt(coco: Any, cat_ids: Sequence, img_ids: Sequence) -> None:
    for ann in coco.dataset.get("annotations", []):
        if "area" not in ann or "bbox" not in ann:
            raise ValueError(f"ground-truth annotation id {ann.get('id')} (image id "
                             f"{ann.get('image_id')}) has no 'area' or 'bbox'; COCO evaluation "
                             f"needs both")
    unknown = [c for c in cat_ids if int(c) not in coco.cats]
    if unknown:
        raise ValueError(f"category ids {unknown[:10]} are not categories of the ground truth")
    known = coco.imgs
    unknown = [i for i in img_ids if int(i) not in known]
    if unknown:
        raise ValueError(f"{len(unknown)} image ids (first {unknown[:5]}) are not images of "
                         f"the ground truth")


def _summarize_one(coco_eval: Any, ap: int, iou_thr: float | None, area: str,
                   max_dets: int) -> tuple[float, str]:
    p = coco_eval.params
    iou_thrs = np.asarray(p.iouThrs)
    aind = [i for i, lbl in enumerate(p.areaRngLbl) if lbl == area]
    mind = [i for i, m in enumerate(p.maxDets) if m == max_dets]
    s = coco_eval.eval["precision" if ap else "recall"]  # [T, R, K, A, M] / [T, K, A, M]
    if iou_thr is not None:
        s = s[np.where(iou_thr == iou_thrs)[0]]
    s = s[..., aind, :][..., mind]
    valid = s[s > -1]
    value = float(np.mean(valid)) if valid.size else -1.0
    title = "Average Precision" if ap else "Average Recall"
    kind = "(AP)" if ap else "(AR)"
    iou_str = (f"{iou_thrs[0]:0.2f}:{iou_thrs[-1]:0.2f}" if iou_thr is None
               else f"{iou_thr:0.2f}")
    line = (f" {title:<18} {kind} @[ IoU={iou_str:<9} | area={area:>6s} | "
            f"maxDets={max_dets:>3d} ] = {value:0.3f}")
    return value, line


def summarize_coco_eval(coco_eval: Any) -> tuple[np.ndarray, str]:
    """The 12 COCO stats and their text, by ``pycocotools``' ``summarize`` rules.

    Args:
        coco_eval: an evaluated and accumulated ``COCOeval_faster`` (``maxDets`` of length 3).

    Returns:
        ``(stats: ndarray[12] float64, text)``; a stat is ``-1`` where nothing was counted.
    """
    md = list(coco_eval.params.maxDets)
    if len(md) < 3:
        raise ValueError(f"COCO summary needs 3 maxDets (proposal_nums), got {md}")
    spec = [(1, None, "all", 100), (1, 0.5, "all", md[2]), (1, 0.75, "all", md[2]),
            (1, None, "small", md[2]), (1, None, "medium", md[2]), (1, None, "large", md[2]),
            (0, None, "all", md[0]), (0, None, "all", md[1]), (0, None, "all", md[2]),
            (0, None, "small", md[2]), (0, None, "medium", md[2]), (0, None, "large", md[2])]
    stats = np.zeros(12)
    lines = []
    for i, args in enumerate(spec):
        stats[i], line = _summarize_one(coco_eval, *args)
        lines.append(line)
    return stats, "\n".join(lines)


def fast_eval_recall(coco_gt: Any, results: Sequence[np.ndarray], img_ids: Sequence,
                     proposal_nums: Sequence[int], iou_thrs: Sequence[float] | np.ndarray,
                     logger: logging.Logger | str | None = "silent") -> np.ndarray:
    """Average recall (over ``iou_thrs``) of each proposal count, v2's ``proposal_fast``.

    Ground truths are all non-crowd, non-ignored boxes of each image (any category).

    Returns:
        ``ndarray[len(proposal_nums)]``.
    """
    if results and not isinstance(results[0], np.ndarray):
        raise TypeError("proposal_fast needs proposal results (one ndarray[n, 5] per image), "
                        f"got {type(results[0]).__name__} per image; use metric='proposal' "
                        f"for detection results")
    coco = build_coco(coco_gt)
    gt_bboxes = []
    for img_id in img_ids:
        boxes = [[a["bbox"][0], a["bbox"][1], a["bbox"][0] + a["bbox"][2],
                  a["bbox"][1] + a["bbox"][3]]
                 for a in coco.loadAnns(coco.getAnnIds(imgIds=[int(img_id)]))
                 if not (a.get("ignore", False) or a.get("iscrowd", 0))]
        gt_bboxes.append(np.array(boxes, dtype=np.float32) if boxes else np.zeros((0, 4)))
    recalls = eval_recalls(gt_bboxes, results, proposal_nums, iou_thrs, logger=logger)
    return recalls.mean(axis=1)


def _zero_results(metric: str, items: list[str], class_names: Sequence[str] | None,
                  classwise: bool) -> OrderedDict:
    out: OrderedDict = OrderedDict()
    if metric == "proposal":
        for item in items:
            out[item] = 0.0
        return out
    for item in items:
        out[f"{metric}_{item}"] = 0.0
    out[f"{metric}_mAP_copypaste"] = " ".join(["0.0000"] * 6)
    if classwise:
        for name in class_names or []:
            out[f"{metric}_AP_{name}"] = 0.0
    return out


def _explain_minus_one(stats: np.ndarray, metric: str, items: list[str], log: Any) -> None:
    for item in items:
        if stats[COCO_METRIC_NAMES[item]] != -1:
            continue
        key = item if metric == "proposal" else f"{metric}_{item}"
        size = item.split("@")[0][-2:]
        why = (f"no ground-truth object is {_SIZE_TEXT[size]}" if size in _SIZE_TEXT
               else "nothing was counted (no ground truth for the evaluated classes/IoUs)")
        print_log(f"{key} is -1: {why} in the evaluated images (COCO reports -1 when there "
                  f"is nothing to measure)", logger=log)


def _classwise(coco_eval: Any, cat_ids: Sequence, names: Sequence[str], metric: str,
               logger: Any) -> OrderedDict:
    precisions = coco_eval.eval["precision"]  # [T, R, K, A, M]
    order = [int(c) for c in coco_eval.params.catIds]  # the evaluator sorts category ids
    out: OrderedDict = OrderedDict()
    per_cat = []
    for cat_id, name in zip(cat_ids, names):
        p = precisions[:, :, order.index(int(cat_id)), 0, -1]
        p = p[p > -1]
        ap = float(np.mean(p)) if p.size else float("nan")
        per_cat.append((str(name), f"{ap:0.3f}"))
        out[f"{metric}_AP_{name}"] = float(f"{ap:.4f}")
    ncols = min(6, len(per_cat) * 2)
    flat = [x for pair in per_cat for x in pair]
    rows: list[list] = [["category", "AP"] * (ncols // 2)]
    rows += [flat[i:i + ncols] for i in range(0, len(flat), ncols)]
    print_log("\n" + format_table(rows), logger=logger)
    return out


def _run_cocoeval(coco_gt: Any, entries: list[dict], metric: str, cat_ids: Sequence,
                  img_ids: Sequence, proposal_nums: Sequence[int], iou_thrs: np.ndarray) -> Any:
    """Match and accumulate; ``entries`` get the keys ``loadRes`` adds (id, area...)."""
    from faster_coco_eval import COCOeval_faster

    coco_dt = coco_gt.loadRes(entries)
    debug = logging.getLogger("detbox.evaluation.faster_coco_eval").debug
    iou_type = "segm" if metric == "segm" else "bbox"
    coco_eval = COCOeval_faster(coco_gt, coco_dt, iou_type, print_function=debug)
    coco_eval.params.catIds = [int(c) for c in cat_ids]
    coco_eval.params.imgIds = [int(i) for i in img_ids]
    coco_eval.params.maxDets = list(proposal_nums)
    coco_eval.params.iouThrs = iou_thrs
    if metric == "proposal":
        coco_eval.params.useCats = 0
    coco_eval.evaluate()
    coco_eval.accumulate()
    return coco_eval


def coco_evaluate(gt: Any, results: list, cat_ids: Sequence[int], img_ids: Sequence[int],
                  class_names: Sequence[str] | None = None, metric: str | list[str] = "bbox",
                  logger: logging.Logger | str | None = None, jsonfile_prefix: str | None = None,
                  classwise: bool = False, proposal_nums: Sequence[int] = (100, 300, 1000),
                  iou_thrs: Sequence[float] | np.ndarray | None = None,
                  metric_items: str | list[str] | None = None) -> OrderedDict:
    """COCO-protocol evaluation of test results, v2's ``CocoDataset.evaluate``.

    Args:
        gt: the ground truth: a COCO-format dict (``images``, ``annotations`` with ``area``,
            ``categories``), a json path, or a ``faster_coco_eval.COCO``.
        results: per image (in ``img_ids`` order) a list over classes of ``ndarray[n, 5]``
            (``x1, y1, x2, y2, score``), ``(bbox_results, segm_results)`` with masks (RLE
            dicts or binary arrays per class), or for proposals one ``ndarray[n, 5]``.
        cat_ids: the category id of each label.
        img_ids: the image id of each result.
        class_names: the name of each label (classwise table and keys); the ground truth's
            category names when ``None``.
        metric: ``'bbox'``, ``'segm'``, ``'proposal'``, ``'proposal_fast'`` or a list.
        logger: where the summaries go; see :func:`~detbox.evaluation.report.print_log`.
        jsonfile_prefix: also write the results as ``<prefix>.bbox.json`` (and
            ``.segm.json``, or ``.proposal.json``).
        classwise: log a per-class AP table and return ``<metric>_AP_<name>`` keys.
        proposal_nums: the three ``maxDets`` (and the proposal counts of ``proposal_fast``).
        iou_thrs: IoU thresholds; ``0.50:0.05:0.95`` by default.
        metric_items: the stats to return (keys of :data:`COCO_METRIC_NAMES`); v2's six per
            metric by default.

    Returns:
        An ``OrderedDict`` of metric name -> value (see the module docstring).
    """
    metrics = metric if isinstance(metric, list) else [metric]
    for m in metrics:
        if m not in _ALLOWED:
            raise KeyError(f"metric {m!r} is not supported; choose from {list(_ALLOWED)}")
    check_results(results, img_ids)
    if metric_items is not None and not isinstance(metric_items, list):
        metric_items = [metric_items]
    for item in metric_items or []:
        if item not in COCO_METRIC_NAMES:
            raise KeyError(f"metric item {item!r} is not supported; choose from "
                           f"{list(COCO_METRIC_NAMES)}")
    if iou_thrs is None:
        iou_thrs = np.linspace(.5, 0.95, int(np.round((0.95 - .5) / .05)) + 1, endpoint=True)
    iou_thrs = np.asarray(iou_thrs, dtype=np.float64).reshape(-1)
    if any(m != "proposal_fast" for m in metrics) and len(proposal_nums) < 3:
        raise ValueError(f"COCO evaluation uses proposal_nums as its 3 maxDets; got "
                         f"{tuple(proposal_nums)}")
    log = get_eval_logger(logger)
    if log is None:
        log = "silent"
    coco_gt = build_coco(gt)
    _check_gt(coco_gt, cat_ids, img_ids)
    if "segm" in metrics:
        bare = [a.get("id") for a in coco_gt.dataset.get("annotations", [])
                if "segmentation" not in a]
        if bare:
            raise ValueError(f"metric 'segm' needs a 'segmentation' in every ground-truth "
                             f"annotation; {len(bare)} have none (ids {bare[:5]})")
    if class_names is None:
        class_names = [coco_gt.cats[int(c)]["name"] for c in cat_ids]
    files, entries = results2entries(results, img_ids, cat_ids, jsonfile_prefix or "results")
    if jsonfile_prefix is not None:
        write_entries(files, entries)

    eval_results: OrderedDict = OrderedDict()
    for m in metrics:
        print_log(f"Evaluating {m}...", logger=log)
        if m == "proposal_fast":
            ar = fast_eval_recall(coco_gt, results, img_ids, proposal_nums, iou_thrs)
            for num, value in zip(proposal_nums, ar):
                eval_results[f"AR@{num}"] = float(value)
            print_log("".join(f"\nAR@{n}\t{v:.4f}" for n, v in zip(proposal_nums, ar)),
                      logger=log)
            continue
        if m not in files:
            raise KeyError(f"{m} is not in results (proposal results support 'proposal' and "
                           f"'proposal_fast' only; 'segm' needs (bbox, segm) results of a "
                           f"model with a mask head)")
        items = metric_items or (_PROPOSAL_ITEMS if m == "proposal" else _DET_ITEMS)
        if not entries[m]:
            print_log(f"The testing results of the whole dataset is empty: no {m} result to "
                      f"evaluate (no detection passed the test score threshold). Every {m} "
                      f"metric is reported as 0.", logger=log, level=logging.WARNING)
            eval_results.update(_zero_results(m, items, class_names, classwise))
            continue
        # loadRes adds keys to the entries it gets: copies, unless this is their last use
        users = [x for x in metrics if x in ("bbox", "proposal")]
        if m == "segm":
            # without boxes, loadRes takes the areas (small/medium/large) from the masks
            dets = [{k: v for k, v in e.items() if k != "bbox"} for e in entries["segm"]]
        elif m == users[-1]:
            dets = entries[m]
        else:
            dets = [dict(e, bbox=list(e["bbox"])) for e in entries[m]]
        coco_eval = _run_cocoeval(coco_gt, dets, m, cat_ids, img_ids, proposal_nums, iou_thrs)
        stats, text = summarize_coco_eval(coco_eval)
        print_log("\n" + text, logger=log)
        _explain_minus_one(stats, m, items, log)
        if m == "proposal":
            for item in items:
                eval_results[item] = float(f"{stats[COCO_METRIC_NAMES[item]]:.4f}")
            continue
        per_class = (_classwise(coco_eval, cat_ids, class_names, m, log) if classwise
                     else OrderedDict())
        for item in items:
            eval_results[f"{m}_{item}"] = float(f"{stats[COCO_METRIC_NAMES[item]]:.4f}")
        ap = stats[:6]
        eval_results[f"{m}_mAP_copypaste"] = " ".join(f"{a:.4f}" for a in ap)
        eval_results.update(per_class)
    return eval_results
