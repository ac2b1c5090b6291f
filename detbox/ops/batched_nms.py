"""Per-class NMS (mmcv 1.x ``batched_nms``) and MMDetection v2's ``multiclass_nms``.

``batched_nms`` keeps classes apart by shifting every box by ``class * (max_coordinate + 1)``
so boxes of different classes never overlap, then runs one NMS; with ``split_thr`` boxes or
more it runs NMS class by class instead (same result, less memory).

>>> boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [1.0, 0.0, 11.0, 10.0]])
>>> dets, keep = batched_nms(boxes, torch.tensor([0.9, 0.8]), torch.tensor([0, 1]),
...                          dict(type='nms', iou_threshold=0.5))
>>> keep  # different classes: both survive
tensor([0, 1])
"""

from __future__ import annotations

import warnings
from typing import Any, Callable

import torch
from torch import Tensor

from .nms import nms
from .soft_nms import soft_nms

__all__ = ["batched_nms", "multiclass_nms", "NMS_OPS"]

NMS_OPS: dict[str, Callable[..., tuple[Tensor, Tensor]]] = {"nms": nms, "soft_nms": soft_nms}


def _nms_op(cfg: dict) -> Callable[..., tuple[Tensor, Tensor]]:
    nms_type = cfg.pop("type", "nms")
    if nms_type not in NMS_OPS:
        raise KeyError(f"unknown nms type {nms_type!r} in nms_cfg; expected one of "
                       f"{sorted(NMS_OPS)}")
    if "iou_thr" in cfg:  # mmcv renames the pre-1.0 argument with a warning
        warnings.warn("nms_cfg: 'iou_thr' is deprecated, please use 'iou_threshold' instead",
                      DeprecationWarning, stacklevel=3)
        cfg["iou_threshold"] = cfg.pop("iou_thr")
    return NMS_OPS[nms_type]


def batched_nms(boxes: Tensor, scores: Tensor, idxs: Tensor, nms_cfg: dict | None,
                class_agnostic: bool = False) -> tuple[Tensor, Tensor]:
    """NMS applied separately within each group of ``idxs`` (mmcv's ``batched_nms``).

    Args:
        boxes: ``Tensor[N, 4]`` xyxy.
        scores: ``Tensor[N]``.
        idxs: ``Tensor[N]`` group (class) of each box; boxes of different groups never
            suppress each other.
        nms_cfg: ``type`` (``'nms'`` or ``'soft_nms'``) and that op's arguments
            (``iou_threshold``, ``max_num``, ...), plus ``split_thr`` (default 10000) and
            ``class_agnostic``. ``None`` skips NMS and only sorts by score.
        class_agnostic: suppress across groups too (``nms_cfg['class_agnostic']`` wins).

    Returns:
        ``(dets, keep)``: ``Tensor[K, 5]`` (``x1, y1, x2, y2, score``, the score as the NMS op
        returns it) and the ``Tensor[K]`` indices into ``boxes``, highest score first.
    """
    if nms_cfg is None:
        scores, inds = scores.sort(descending=True)
        return torch.cat([boxes[inds], scores[:, None]], -1), inds

    if boxes.numel() == 0:  # mmcv fails on ``boxes.max()`` here; return the empty result
        return boxes.new_zeros((0, 5)), idxs.new_zeros((0,), dtype=torch.long)

    cfg: dict[str, Any] = dict(nms_cfg)
    class_agnostic = cfg.pop("class_agnostic", class_agnostic)
    if class_agnostic:
        boxes_for_nms = boxes
    else:
        max_coordinate = boxes.max()
        offsets = idxs.to(boxes) * (max_coordinate + torch.tensor(1).to(boxes))
        boxes_for_nms = boxes + offsets[:, None]

    nms_op = _nms_op(cfg)
    split_thr = cfg.pop("split_thr", 10000)
    if boxes_for_nms.shape[0] < split_thr:
        dets, keep = nms_op(boxes_for_nms, scores, **cfg)
        boxes = boxes[keep]
        scores = dets[:, -1]
    else:
        max_num = cfg.pop("max_num", -1)
        total_mask = scores.new_zeros(scores.size(), dtype=torch.bool)
        scores_after_nms = scores.new_zeros(scores.size())  # soft_nms rescores
        for group in torch.unique(idxs):
            mask = (idxs == group).nonzero(as_tuple=False).view(-1)
            dets, keep = nms_op(boxes_for_nms[mask], scores[mask], **cfg)
            total_mask[mask[keep]] = True
            scores_after_nms[mask[keep]] = dets[:, -1].to(scores_after_nms)
        keep = total_mask.nonzero(as_tuple=False).view(-1)
        scores, inds = scores_after_nms[keep].sort(descending=True)
        keep = keep[inds]
        boxes = boxes[keep]
        if max_num > 0:
            keep, boxes, scores = keep[:max_num], boxes[:max_num], scores[:max_num]
    return torch.cat([boxes, scores[:, None]], -1), keep


def multiclass_nms(multi_bboxes: Tensor, multi_scores: Tensor, score_thr: float, nms_cfg: dict,
                   max_num: int = -1, score_factors: Tensor | None = None,
                   return_inds: bool = False) -> tuple[Tensor, ...]:
    """Class-wise NMS of a detection head's boxes and scores (MMDetection v2's).

    Every (box, class) pair with ``score > score_thr`` is a candidate; its score is then
    multiplied by ``score_factors`` (after the threshold, as in v2), and NMS runs per class.

    Args:
        multi_bboxes: ``Tensor[N, C * 4]`` class-specific or ``Tensor[N, 4]`` shared xyxy boxes.
        multi_scores: ``Tensor[N, C + 1]``; the last column (background) is ignored.
        score_thr: candidates need a score strictly above this.
        nms_cfg: as for :func:`batched_nms`.
        max_num: if positive, keep at most this many detections (highest scores).
        score_factors: ``Tensor[N]`` factors multiplied into every class score of a box
            (e.g. centerness).
        return_inds: also return the indices of the kept pairs in the flattened
            ``N * C`` (box-major) candidate list.

    Returns:
        ``(dets, labels)`` (or ``(dets, labels, inds)``): ``Tensor[K, 5]``
        (``x1, y1, x2, y2, score``), ``Tensor[K]`` int64 0-based labels, highest score first.
    """
    num_classes = multi_scores.size(1) - 1
    if multi_bboxes.shape[1] > 4:
        bboxes = multi_bboxes.view(multi_scores.size(0), -1, 4)  # [N, C, 4]
    else:
        bboxes = multi_bboxes[:, None].expand(multi_scores.size(0), num_classes, 4)
    scores = multi_scores[:, :-1]
    labels = torch.arange(num_classes, dtype=torch.long, device=scores.device)
    labels = labels.view(1, -1).expand_as(scores)

    bboxes = bboxes.reshape(-1, 4)  # [N * C, 4]
    scores = scores.reshape(-1)
    labels = labels.reshape(-1)

    valid_mask = scores > score_thr
    if score_factors is not None:
        factors = score_factors.view(-1, 1).expand(multi_scores.size(0), num_classes)
        scores = scores * factors.reshape(-1)

    inds = valid_mask.nonzero(as_tuple=False).squeeze(1)
    bboxes, scores, labels = bboxes[inds], scores[inds], labels[inds]

    if bboxes.numel() == 0:
        dets = torch.cat([bboxes, scores[:, None]], -1)
        return (dets, labels, inds) if return_inds else (dets, labels)

    dets, keep = batched_nms(bboxes, scores, labels, nms_cfg)
    if max_num > 0:
        dets, keep = dets[:max_num], keep[:max_num]
    if return_inds:
        return dets, labels[keep], inds[keep]
    return dets, labels[keep]
