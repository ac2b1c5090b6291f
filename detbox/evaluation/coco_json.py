"""Test results as COCO result json (MMDetection v2's ``results2json`` / ``format_results``).

A detection result (per image, a list over classes of ``ndarray[n, 5]``) gives one entry per
box: ``{"image_id", "bbox": [x, y, w, h], "score", "category_id"}``; a proposal result (per
image, one ``ndarray[n, 5]``) gives the same with ``category_id`` 1; an instance
segmentation result (per image ``(bbox_results, segm_results)``, segm a list over classes of
RLE dicts or binary masks, or ``(segms, mask_scores)``) gives box entries and mask entries
``{..., "segmentation": RLE with str counts}``.

>>> res = [[np.array([[10, 20, 30, 60, 0.5]], dtype=np.float32)]]
>>> det2json(res, img_ids=[7], cat_ids=[3])
[{'image_id': 7, 'bbox': [10.0, 20.0, 20.0, 40.0], 'score': 0.5, 'category_id': 3}]
"""

from __future__ import annotations

import json
import os
import os.path as osp
import tempfile
from typing import Any, Sequence

import numpy as np

__all__ = ["xyxy2xywh", "det2json", "proposal2json", "segm2json", "results2json",
           "results2entries", "write_entries", "format_results", "check_results"]


def xyxy2xywh(bbox: np.ndarray) -> list[float]:
    """``[x1, y1, x2, y2, ...]`` -> ``[x1, y1, x2 - x1, y2 - y1]`` as Python floats."""
    b = bbox.tolist()
    return [b[0], b[1], b[2] - b[0], b[3] - b[1]]


def _id(value: Any) -> Any:
    return int(value) if isinstance(value, (np.integer, int)) else value


def _check_boxes(boxes: Any, where: str) -> np.ndarray:
    if not isinstance(boxes, np.ndarray) or boxes.ndim != 2 or boxes.shape[1] != 5:
        shape = getattr(boxes, "shape", type(boxes).__name__)
        raise ValueError(f"{where}: expected ndarray[n, 5] (x1, y1, x2, y2, score), got {shape}")
    return boxes


def _boxes2json(boxes: np.ndarray, img_id: Any, cat_ids: list) -> list[dict]:
    """Entries of ``boxes[i]`` with category ``cat_ids[i]``."""
    # float32 values widened to float64 first, so w and h equal v2's Python-float subtraction
    xywh = boxes[:, :4].astype(np.float64)
    xywh[:, 2:] -= xywh[:, :2]
    scores = boxes[:, 4].astype(np.float64).tolist()
    return [dict(image_id=img_id, bbox=b, score=s, category_id=c)
            for b, s, c in zip(xywh.tolist(), scores, cat_ids)]


def det2json(results: Sequence[Sequence[np.ndarray]], img_ids: Sequence,
             cat_ids: Sequence) -> list[dict]:
    """COCO json entries of detection results (label ``i`` -> ``cat_ids[i]``)."""
    cats = [_id(c) for c in cat_ids]
    out: list[dict] = []
    for idx, result in enumerate(results):
        img_id = _id(img_ids[idx])
        if len(result) != len(cats):
            raise ValueError(f"results[{idx}] (image id {img_id}) has {len(result)} classes, "
                             f"the dataset {len(cats)}")
        parts, labels = [], []
        for label, boxes in enumerate(result):
            _check_boxes(boxes, f"results[{idx}][{label}] (image id {img_id})")
            if len(boxes):
                parts.append(boxes)
                labels += [cats[label]] * len(boxes)
        if parts:  # one array per image: the entries keep v2's image -> label -> box order
            out += _boxes2json(np.concatenate(parts), img_id, labels)
    return out


def proposal2json(results: Sequence[np.ndarray], img_ids: Sequence) -> list[dict]:
    """COCO json entries of proposals (``category_id`` 1)."""
    out: list[dict] = []
    for idx, boxes in enumerate(results):
        img_id = _id(img_ids[idx])
        _check_boxes(boxes, f"results[{idx}] (image id {img_id})")
        out += _boxes2json(boxes, img_id, [1] * len(boxes))
    return out


def _as_rle(mask: Any, where: str) -> dict:
    """An RLE dict with ``str`` counts from an RLE dict or a binary ``[H, W]`` mask."""
    if isinstance(mask, dict) and "counts" in mask:
        counts = mask["counts"]
        return dict(mask, counts=counts.decode() if isinstance(counts, bytes) else counts)
    if isinstance(mask, np.ndarray) and mask.ndim == 2:
        from ..structures.masks import encode_mask_results

        rle = encode_mask_results([[mask]])[0][0]
        return dict(rle, counts=rle["counts"].decode())
    raise ValueError(f"{where}: a mask result must be an RLE dict or a binary [H, W] array, "
                     f"got {type(mask).__name__}")


def segm2json(results: Sequence[tuple], img_ids: Sequence, cat_ids: Sequence
              ) -> tuple[list[dict], list[dict]]:
    """Box and mask entries of ``(bbox_results, segm_results)`` results (v2's ``_segm2json``).

    The mask score is the box score, or ``mask_scores`` when ``segm_results`` is
    ``(segms, mask_scores)`` (Mask Scoring R-CNN).
    """
    cats = [_id(c) for c in cat_ids]
    bbox_entries = det2json([r[0] for r in results], img_ids, cat_ids)
    segm_entries: list[dict] = []
    for idx, (det, seg) in enumerate(results):
        img_id = _id(img_ids[idx])
        segms, scores = (seg[0], seg[1]) if isinstance(seg, tuple) else (seg, None)
        if len(segms) != len(cats):
            raise ValueError(f"results[{idx}] (image id {img_id}) has masks of {len(segms)} "
                             f"classes, the dataset {len(cats)}")
        for label, boxes in enumerate(det):
            where = f"results[{idx}] masks of class {label} (image id {img_id})"
            if len(segms[label]) != len(boxes):
                raise ValueError(f"{where}: {len(segms[label])} masks for {len(boxes)} boxes")
            xywh = boxes[:, :4].astype(np.float64)
            xywh[:, 2:] -= xywh[:, :2]
            box_scores = boxes[:, 4].astype(np.float64).tolist()
            for i in range(len(boxes)):
                score = float(scores[label][i]) if scores is not None else box_scores[i]
                segm_entries.append(dict(image_id=img_id, bbox=xywh[i].tolist(), score=score,
                                         category_id=cats[label],
                                         segmentation=_as_rle(segms[label][i], where)))
    return bbox_entries, segm_entries


def check_results(results: Any, img_ids: Sequence) -> None:
    """Raise a clear error unless ``results`` is a list with one entry per image."""
    if not isinstance(results, list):
        raise TypeError(f"results must be a list (one entry per image), got "
                        f"{type(results).__name__}")
    if len(results) != len(img_ids):
        raise ValueError(f"the length of results is not equal to the dataset len: "
                         f"{len(results)} != {len(img_ids)}")


def results2json(results: list, img_ids: Sequence, cat_ids: Sequence,
                 outfile_prefix: str) -> dict[str, str]:
    """Write the results as COCO json file(s) and say which file holds which kind.

    Args:
        results: detection results (per image a list over classes), proposal results (per
            image an ``ndarray[n, 5]``) or instance segmentation results (per image
            ``(bbox_results, segm_results)``).
        img_ids: the COCO image id of each result, in order.
        cat_ids: the COCO category id of each label.
        outfile_prefix: ``'dir/name'`` writes ``dir/name.bbox.json`` (detections) or
            ``dir/name.proposal.json`` (proposals).

    Returns:
        ``{'bbox': path, 'proposal': path}`` for detections (the same file: proposal recall is
        computed on the boxes, class-agnostic), plus ``'segm': dir/name.segm.json`` for
        instance segmentation; ``{'proposal': path}`` for proposals.
    """
    check_results(results, img_ids)
    files, entries = results2entries(results, img_ids, cat_ids, outfile_prefix)
    write_entries(files, entries)
    return files


def write_entries(files: dict[str, str], entries: dict[str, list[dict]]) -> None:
    """Write each kind's ``entries[kind]`` as json to ``files[kind]`` (creating its folder);
    kinds sharing a path (``bbox`` and ``proposal``) write it once."""
    written = set()
    for kind, path in files.items():
        if path in written:
            continue
        written.add(path)
        dirname = osp.dirname(path)
        if dirname:
            os.makedirs(dirname, exist_ok=True)
        with open(path, "w") as f:
            json.dump(entries[kind], f)


def results2entries(results: list, img_ids: Sequence, cat_ids: Sequence,
                    outfile_prefix: str = "results"
                    ) -> tuple[dict[str, str], dict[str, list[dict]]]:
    """The file names :func:`results2json` would write and each kind's json entries.

    Returns:
        ``(files, entries)``: ``files`` maps ``bbox``/``proposal``/``segm`` to a path,
        ``entries`` each of those kinds to its list of entries.
    """
    bbox_path = f"{outfile_prefix}.bbox.json"
    if not results:
        return {"bbox": bbox_path, "proposal": bbox_path}, {"bbox": [], "proposal": []}
    first = results[0]
    if isinstance(first, list):
        entries = det2json(results, img_ids, cat_ids)
        return {"bbox": bbox_path, "proposal": bbox_path}, {"bbox": entries,
                                                             "proposal": entries}
    if isinstance(first, np.ndarray):
        return ({"proposal": f"{outfile_prefix}.proposal.json"},
                {"proposal": proposal2json(results, img_ids)})
    if isinstance(first, tuple):
        if any(not (isinstance(r, tuple) and len(r) == 2) for r in results):
            raise TypeError("instance segmentation results must be (bbox_results, "
                            "segm_results) for every image")
        boxes, segms = segm2json(results, img_ids, cat_ids)
        return ({"bbox": bbox_path, "proposal": bbox_path,
                 "segm": f"{outfile_prefix}.segm.json"},
                {"bbox": boxes, "proposal": boxes, "segm": segms})
    raise TypeError(f"invalid type of results: each entry must be a list over classes of "
                    f"ndarray[n, 5] or one ndarray[n, 5] of proposals, got "
                    f"{type(first).__name__}")


def format_results(results: list, img_ids: Sequence, cat_ids: Sequence,
                   jsonfile_prefix: str | None = None
                   ) -> tuple[dict[str, str], tempfile.TemporaryDirectory | None]:
    """v2's ``CocoDataset.format_results``: write the json file(s) for submission or evaluation.

    Args:
        results: as :func:`results2json`.
        img_ids: the COCO image id of each result.
        cat_ids: the COCO category id of each label.
        jsonfile_prefix: ``'dir/name'``; ``None`` writes into a new temporary directory.

    Returns:
        ``(result_files, tmp_dir)``: ``tmp_dir`` is the ``TemporaryDirectory`` to clean up
        when no prefix was given, else ``None``.
    """
    check_results(results, img_ids)
    tmp_dir = None
    if jsonfile_prefix is None:
        tmp_dir = tempfile.TemporaryDirectory()
        jsonfile_prefix = osp.join(tmp_dir.name, "results")
    return results2json(results, img_ids, cat_ids, jsonfile_prefix), tmp_dir
