"""Decoding corner heatmaps into boxes (pure functions, MMDetection v2's order of operations).

Top-left and bottom-right heatmaps keep their local maxima; the top ``k`` corners of each are
paired all-against-all (``k x k`` candidates, top-left corners along rows). A corner's
position is its pixel plus its predicted offset, scaled to the padded input and shifted by
the test crop's ``border`` (clamped at 0). A pair scores the mean of its two corner scores, or
``-1`` when the classes differ, the box is empty, or the pairing test fails:

- CornerNet (:func:`decode_corner_heatmap`): the corners' embeddings are further apart than
  ``distance_threshold``;
- CentripetalNet (:func:`decode_centripetal_heatmap`): each corner's centripetal shift
  (``exp`` of the prediction, in feature pixels) points at a centre; the box of the two
  centres must lie strictly inside the pair's central region (the box scaled by ``mu`` about
  its centre: ``1 / 2.1`` for boxes over 3500 px², else ``1 / 2.4``) and cover at most
  ``distance_threshold`` of that region's area.

The best ``num_dets`` pairs are returned.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..task_modules.gaussian_target import (
    gather_feat,
    get_local_maximum,
    get_topk_from_heatmap,
    transpose_and_gather_feat,
)

__all__ = ["decode_centripetal_heatmap", "decode_corner_heatmap"]


def _check_k(heat: Tensor, k: int, num_dets: int) -> None:
    _, num_classes, height, width = heat.size()
    if k > num_classes * height * width or k * k < num_dets:
        raise ValueError(f"CornerHead: test_cfg corner_topk={k} must be at most the heatmap's "
                         f"{num_classes}x{height}x{width} values and its square at least "
                         f"{num_dets} (the pairs ranked)")


def _top_corners(heat: Tensor, off: Tensor, k: int, kernel: int, rows: bool
                 ) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """The top ``k`` local maxima of ``heat: Tensor[B, C, H, W]``, laid out for pairing.

    Returns ``scores, inds, clses`` (``Tensor[B, k]``) and the positions plus offsets
    ``xs, ys`` in feature pixels, ``Tensor[B, k, k]`` (constant along the last axis when
    ``rows``, i.e. top-left corners; along the middle axis otherwise)."""
    batch = heat.size(0)
    scores, inds, clses, ys, xs = get_topk_from_heatmap(get_local_maximum(heat, kernel=kernel),
                                                        k=k)
    shape, reps = ((batch, k, 1), (1, 1, k)) if rows else ((batch, 1, k), (1, k, 1))
    ys = ys.reshape(shape).repeat(reps)
    xs = xs.reshape(shape).repeat(reps)
    off = transpose_and_gather_feat(off, inds).reshape(*shape, 2)
    return scores, inds, clses, xs + off[..., 0], ys + off[..., 1]


def _pair_scores(tl_scores: Tensor, br_scores: Tensor, tl_clses: Tensor, br_clses: Tensor,
                 k: int) -> tuple[Tensor, Tensor, Tensor]:
    """Mean corner scores ``[B, k, k]``, the classes of both corners ``[B, k, k]``."""
    batch = tl_scores.size(0)
    scores = (tl_scores.reshape(batch, k, 1).repeat(1, 1, k)
              + br_scores.reshape(batch, 1, k).repeat(1, k, 1)) / 2
    return (scores, tl_clses.reshape(batch, k, 1).repeat(1, 1, k),
            br_clses.reshape(batch, 1, k).repeat(1, k, 1))


def _best_pairs(scores: Tensor, bboxes: Tensor, clses: Tensor, num_dets: int
                ) -> tuple[Tensor, Tensor, Tensor]:
    """The ``num_dets`` best of ``scores: Tensor[B, k, k]`` with their boxes and classes."""
    batch = scores.size(0)
    scores, inds = torch.topk(scores.reshape(batch, -1), num_dets)
    bboxes = gather_feat(bboxes.reshape(batch, -1, 4), inds)
    clses = gather_feat(clses.reshape(batch, -1, 1), inds).float()
    return bboxes, scores.unsqueeze(2), clses


def _border(img_meta: dict) -> tuple[float, float]:
    """``(x_off, y_off)`` of the test crop (``border = top, bottom, left, right``), or 0."""
    if "border" in img_meta:
        return img_meta["border"][2], img_meta["border"][0]
    return 0, 0


def _to_input(v: Tensor, scale: float, shift: float) -> Tensor:
    """Feature pixels to padded-input pixels, minus the crop ``shift``, negatives set to 0."""
    v = v * scale - shift
    return torch.where(v > 0.0, v, v.new_zeros(v.size()))


def decode_corner_heatmap(tl_heat: Tensor, br_heat: Tensor, tl_off: Tensor, br_off: Tensor,
                          tl_emb: Tensor, br_emb: Tensor, img_meta: dict, k: int = 100,
                          kernel: int = 3, distance_threshold: float = 0.5,
                          num_dets: int = 1000) -> tuple[Tensor, Tensor, Tensor]:
    """Boxes of corner pairs grouped by embeddings (CornerNet).

    Args:
        tl_heat, br_heat: corner probabilities ``Tensor[B, C, H, W]`` (after sigmoid).
        tl_off, br_off: corner offsets ``Tensor[B, 2, H, W]`` (x, y in feature pixels).
        tl_emb, br_emb: corner embeddings ``Tensor[B, 1, H, W]``.
        img_meta: uses ``pad_shape`` (``H_in, W_in, _``) and the optional ``border``
            (``top, bottom, left, right`` of the test crop).
        k: corners kept per heatmap (at most ``C * H * W``).
        kernel: local-maximum window.
        distance_threshold: largest embedding distance of a pair.
        num_dets: pairs returned (at most ``k * k``).

    Returns:
        ``bboxes: Tensor[B, num_dets, 4]`` (xyxy), ``scores: Tensor[B, num_dets, 1]``
        (``-1`` for rejected pairs), ``classes: Tensor[B, num_dets, 1]`` (float).
    """
    _check_k(tl_heat, k, num_dets)
    batch, _, height, width = tl_heat.size()
    inp_h, inp_w = img_meta["pad_shape"][:2]
    tl_scores, tl_inds, tl_clses, tl_xs, tl_ys = _top_corners(tl_heat, tl_off, k, kernel, True)
    br_scores, br_inds, br_clses, br_xs, br_ys = _top_corners(br_heat, br_off, k, kernel, False)
    x_off, y_off = _border(img_meta)
    sx, sy = inp_w / width, inp_h / height
    tl_xs, tl_ys = _to_input(tl_xs, sx, x_off), _to_input(tl_ys, sy, y_off)
    br_xs, br_ys = _to_input(br_xs, sx, x_off), _to_input(br_ys, sy, y_off)
    bboxes = torch.stack((tl_xs, tl_ys, br_xs, br_ys), dim=3)  # [B, k, k, 4]

    tl_emb = transpose_and_gather_feat(tl_emb, tl_inds).reshape(batch, k, 1)
    br_emb = transpose_and_gather_feat(br_emb, br_inds).reshape(batch, 1, k)
    dists = torch.abs(tl_emb - br_emb)
    scores, tl_clses, br_clses = _pair_scores(tl_scores, br_scores, tl_clses, br_clses, k)
    rejected = ((tl_clses != br_clses) | (br_xs <= tl_xs) | (br_ys <= tl_ys)
                | (dists > distance_threshold))
    scores = torch.where(rejected, -torch.ones_like(scores), scores)
    return _best_pairs(scores, bboxes, tl_clses, num_dets)


def _central_region(bboxes: Tensor) -> Tensor:
    """The central region ``Tensor[B, k, k, 4]`` of ``bboxes: Tensor[B, k, k, 4]`` (xyxy): the
    box scaled about its centre by ``mu`` (``1 / 2.1`` above 3500 px², else ``1 / 2.4``)."""
    x1, y1, x2, y2 = bboxes.unbind(-1)
    area = ((x2 - x1) * (y2 - y1)).abs()
    mu = torch.ones_like(area) / 2.4
    mu[area > 3500] = 1 / 2.1
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    return torch.stack((cx - mu * (x2 - x1) / 2, cy - mu * (y2 - y1) / 2,
                        cx + mu * (x2 - x1) / 2, cy + mu * (y2 - y1) / 2), dim=-1)


def decode_centripetal_heatmap(tl_heat: Tensor, br_heat: Tensor, tl_off: Tensor,
                               br_off: Tensor, tl_centripetal_shift: Tensor,
                               br_centripetal_shift: Tensor, img_meta: dict, k: int = 100,
                               kernel: int = 3, distance_threshold: float = 0.5,
                               num_dets: int = 1000) -> tuple[Tensor, Tensor, Tensor]:
    """Boxes of corner pairs whose centripetal shifts meet in the central region
    (CentripetalNet).

    Args:
        tl_heat, br_heat: corner probabilities ``Tensor[B, C, H, W]`` (after sigmoid).
        tl_off, br_off: corner offsets ``Tensor[B, 2, H, W]`` (x, y in feature pixels).
        tl_centripetal_shift, br_centripetal_shift: ``Tensor[B, 2, H, W]``, the log of the
            (x, y) distance from the corner to the box centre in feature pixels (towards
            the bottom-right for top-left corners, the top-left for bottom-right ones).
        img_meta: uses ``pad_shape`` and the optional ``border``.
        k: corners kept per heatmap.
        kernel: local-maximum window.
        distance_threshold: largest ratio of the centres' box area to the central region's.
        num_dets: pairs returned (at most ``k * k``).

    Returns:
        ``bboxes: Tensor[B, num_dets, 4]``, ``scores: Tensor[B, num_dets, 1]`` (``-1`` for
        rejected pairs), ``classes: Tensor[B, num_dets, 1]`` (float).
    """
    _check_k(tl_heat, k, num_dets)
    batch, _, height, width = tl_heat.size()
    inp_h, inp_w = img_meta["pad_shape"][:2]
    tl_scores, tl_inds, tl_clses, tl_xs, tl_ys = _top_corners(tl_heat, tl_off, k, kernel, True)
    br_scores, br_inds, br_clses, br_xs, br_ys = _top_corners(br_heat, br_off, k, kernel, False)
    tl_shift = transpose_and_gather_feat(tl_centripetal_shift, tl_inds).reshape(
        batch, k, 1, 2).exp()
    br_shift = transpose_and_gather_feat(br_centripetal_shift, br_inds).reshape(
        batch, 1, k, 2).exp()
    # the centres both corners point at, [B, k, k] each
    centres = (tl_xs + tl_shift[..., 0], tl_ys + tl_shift[..., 1],
               br_xs - br_shift[..., 0], br_ys - br_shift[..., 1])

    x_off, y_off = _border(img_meta)
    sx, sy = inp_w / width, inp_h / height
    tl_xs, tl_ys = _to_input(tl_xs, sx, x_off), _to_input(tl_ys, sy, y_off)
    br_xs, br_ys = _to_input(br_xs, sx, x_off), _to_input(br_ys, sy, y_off)
    bboxes = torch.stack((tl_xs, tl_ys, br_xs, br_ys), dim=3)  # [B, k, k, 4]
    ct = []
    for v, scale, shift in zip(centres, (sx, sy, sx, sy), (x_off, y_off, x_off, y_off)):
        v = v * scale - shift
        ct.append(v * v.gt(0.0).type_as(v))
    ct_bboxes = torch.stack(ct, dim=3)  # [B, k, k, 4]
    ct_area = ((ct[2] - ct[0]) * (ct[3] - ct[1])).abs()
    region = _central_region(bboxes)
    region_area = ((region[..., 2] - region[..., 0]) * (region[..., 3] - region[..., 1])).abs()
    dists = ct_area / region_area
    outside = torch.zeros_like(dists, dtype=torch.bool)
    for i, (lo, hi) in enumerate(((0, 2), (1, 3), (0, 2), (1, 3))):
        outside |= (ct_bboxes[..., i] <= region[..., lo]) | (ct_bboxes[..., i] >= region[..., hi])

    scores, tl_clses, br_clses = _pair_scores(tl_scores, br_scores, tl_clses, br_clses, k)
    rejected = ((tl_clses != br_clses) | (br_xs <= tl_xs) | (br_ys <= tl_ys)
                | (dists > distance_threshold) | outside)
    scores = torch.where(rejected, -torch.ones_like(scores), scores)
    return _best_pairs(scores, bboxes, tl_clses, num_dets)
