"""Targets of Guided Anchoring (Wang et al., 2019) that do not depend on a head's layers.

* :func:`ga_location_targets`: the anchor *location* map of each level. A ground truth is
  given to one level by its scale; the center part of its box (``center_ratio``) is positive,
  the ring around it up to ``ignore_ratio`` is ignored, and so is the ``ignore_ratio`` region
  on the two neighbouring levels; everything else is negative with weight 0.1.
* :func:`approx_inside_flags`: a location counts as inside the image when any of its
  approximate anchors is.
* :func:`guided_anchors_single`: the guided anchors of one level, the squares with the
  predicted ``(dw, dh)`` applied.

>>> import torch
>>> targets, weights, avg = ga_location_targets(
...     [torch.tensor([[8.0, 8.0, 24.0, 24.0]])], [(8, 8), (4, 4)], anchor_scale=4,
...     strides=[4, 8], center_ratio=0.2, ignore_ratio=0.5)
>>> targets[0][0, 0, 3:6, 3:6]  # level 0 (scale 16 = 4 * 4): the center cell is positive
tensor([[0., 0., 0.],
        [0., 1., 0.],
        [0., 0., 0.]])
>>> round(float(weights[0][0, 0, 0, 0]), 6), float(weights[0][0, 0, 3, 3]), avg
(0.1, 0.0, 0.4)
"""

from __future__ import annotations

from typing import Any, Sequence

import torch
from torch import Tensor

from ..utils import anchor_inside_flags

__all__ = ["calc_region", "ga_location_targets", "approx_inside_flags",
           "guided_anchors_single"]

NEGATIVE_WEIGHT = 0.1  # weight of the negative region of the location map
LOC_AVG_DIVISOR = 200  # the location loss is averaged over (all map cells) / 200


def calc_region(bbox: Tensor, ratio: float, featmap_size: Sequence[int] | None = None
                ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """The cells of the box ``bbox`` shrunk by ``ratio`` from each side, rounded.

    Args:
        bbox: ``Tensor[4]`` xyxy in feature-map cells.
        ratio: fraction cut from each side (``(1 - r) * x1 + r * x2`` is the new ``x1``).
        featmap_size: ``(H, W)`` to clamp to (``[0, W]`` and ``[0, H]``), or ``None``.

    Returns:
        ``(x1, y1, x2, y2)`` int64 0-dim tensors (inclusive cell indices).
    """
    x1 = torch.round((1 - ratio) * bbox[0] + ratio * bbox[2]).long()
    y1 = torch.round((1 - ratio) * bbox[1] + ratio * bbox[3]).long()
    x2 = torch.round(ratio * bbox[0] + (1 - ratio) * bbox[2]).long()
    y2 = torch.round(ratio * bbox[1] + (1 - ratio) * bbox[3]).long()
    if featmap_size is not None:
        x1 = x1.clamp(min=0, max=featmap_size[1])
        y1 = y1.clamp(min=0, max=featmap_size[0])
        x2 = x2.clamp(min=0, max=featmap_size[1])
        y2 = y2.clamp(min=0, max=featmap_size[0])
    return x1, y1, x2, y2


def _fill(maps: Tensor, img_id: int, region: tuple[Tensor, ...], value: float) -> None:
    x1, y1, x2, y2 = (int(v) for v in region)
    maps[img_id, 0, y1:y2 + 1, x1:x2 + 1] = value


def ga_location_targets(gt_bboxes_list: list[Tensor], featmap_sizes: list[Sequence[int]],
                        anchor_scale: float, strides: Sequence[int], center_ratio: float,
                        ignore_ratio: float) -> tuple[list[Tensor], list[Tensor], float]:
    """Location targets and weights of every level.

    Args:
        gt_bboxes_list: per image ``Tensor[K, 4]`` xyxy ground truths (input pixels).
        featmap_sizes: per level ``(H, W)``.
        anchor_scale: the approx generator's ``octave_base_scale``; a ground truth of scale
            ``sqrt(w h)`` goes to level ``floor(log2(scale / (anchor_scale * strides[0])) +
            0.5)``, clamped to the levels.
        strides: per level, the stride (square strides only).
        center_ratio: the positive center is this fraction of the box.
        ignore_ratio: the ignored region is this fraction of the box.

    Returns:
        ``(targets, weights, avg_factor)``: per level ``Tensor[B, 1, H, W]`` targets (1 in
        positive cells) and weights (1 positive, 0 ignored, 0.1 negative), and the average
        factor (cells of all levels and images / 200).
    """
    num_imgs, num_levels = len(gt_bboxes_list), len(featmap_sizes)
    r_center = (1 - center_ratio) / 2
    r_ignore = (1 - ignore_ratio) / 2
    device = gt_bboxes_list[0].device
    targets, weights, ignore_maps = [], [], []
    for h, w in featmap_sizes:
        target = torch.zeros(num_imgs, 1, h, w, device=device, dtype=torch.float32)
        targets.append(target)
        weights.append(torch.full_like(target, -1))  # -1: not decided yet (negative)
        ignore_maps.append(torch.zeros_like(target))
    for img_id, gt_bboxes in enumerate(gt_bboxes_list):
        scale = torch.sqrt((gt_bboxes[:, 2] - gt_bboxes[:, 0])
                           * (gt_bboxes[:, 3] - gt_bboxes[:, 1]))
        min_anchor_size = scale.new_full((1,), float(anchor_scale * strides[0]))
        levels = torch.floor(torch.log2(scale) - torch.log2(min_anchor_size) + 0.5)
        levels = levels.clamp(min=0, max=num_levels - 1).long()
        for gt_id in range(gt_bboxes.size(0)):
            lvl = int(levels[gt_id])
            gt = gt_bboxes[gt_id, :4] / strides[lvl]
            ignore_region = calc_region(gt, r_ignore, featmap_sizes[lvl])
            center_region = calc_region(gt, r_center, featmap_sizes[lvl])
            _fill(targets[lvl], img_id, center_region, 1)
            _fill(weights[lvl], img_id, ignore_region, 0)
            _fill(weights[lvl], img_id, center_region, 1)
            for near in (lvl - 1, lvl + 1):  # the neighbouring levels ignore the box too
                if 0 <= near < num_levels:
                    region = calc_region(gt_bboxes[gt_id, :4] / strides[near], r_ignore,
                                         featmap_sizes[near])
                    _fill(ignore_maps[near], img_id, region, 1)
    for weight, ignore in zip(weights, ignore_maps):
        weight[(weight < 0) & (ignore > 0)] = 0
        weight[weight < 0] = NEGATIVE_WEIGHT
    avg_factor = sum(t.size(0) * t.size(-1) * t.size(-2) for t in targets) / LOC_AVG_DIVISOR
    return targets, weights, avg_factor


def approx_inside_flags(approxs: Tensor, valid_flags: Tensor, approxs_per_octave: int,
                        img_shape: Sequence[int], allowed_border: int) -> Tensor:
    """Locations with at least one approx inside the image (one level).

    Args:
        approxs: ``Tensor[N * A, 4]`` approxs, the ``A = approxs_per_octave`` of a location
            consecutive.
        valid_flags: ``Tensor[N * A]`` bool valid flags of the approxs.
        approxs_per_octave: ``A``.
        img_shape: ``(H, W, ...)`` of the image.
        allowed_border: border outside the image still counted as inside (negative: all).

    Returns:
        ``Tensor[N]`` bool.
    """
    flags = [anchor_inside_flags(approxs[i::approxs_per_octave],
                                 valid_flags[i::approxs_per_octave], img_shape[:2],
                                 allowed_border) for i in range(approxs_per_octave)]
    return torch.stack(flags, 0).sum(dim=0) > 0


def guided_anchors_single(squares: Tensor, shape_pred: Tensor, loc_pred: Tensor,
                          anchor_coder: Any, num_base_priors: int,
                          loc_filter_thr: float | None) -> tuple[Tensor, Tensor]:
    """Guided anchors of one image and level.

    Args:
        squares: ``Tensor[H * W * P, 4]`` square anchors.
        shape_pred: ``Tensor[2 * P, H, W]`` predicted ``(dw, dh)`` deltas.
        loc_pred: ``Tensor[1, H, W]`` location logits.
        anchor_coder: decodes ``(0, 0, dw, dh)`` deltas on the squares
            (``wh_ratio_clip=1e-6``).
        num_base_priors: ``P`` squares per location.
        loc_filter_thr: keep locations whose sigmoid is at least this; ``None`` keeps all.

    Returns:
        ``(anchors: Tensor[n, 4], mask: Tensor[H * W * P])``: the kept guided anchors and the
        bool mask of kept positions.
    """
    loc = loc_pred.sigmoid().detach()
    loc_mask = loc >= (0.0 if loc_filter_thr is None else loc_filter_thr)
    mask = loc_mask.permute(1, 2, 0).expand(-1, -1, num_base_priors).contiguous().view(-1)
    squares = squares[mask]
    wh_deltas = shape_pred.permute(1, 2, 0).contiguous().view(-1, 2).detach()[mask]
    deltas = wh_deltas.new_zeros(squares.size())
    deltas[:, 2:] = wh_deltas
    return anchor_coder.decode(squares, deltas, wh_ratio_clip=1e-6), mask
