"""Decoding CornerNet's corner heatmaps into boxes (pure function, MMDetection v2's order).

Top-left and bottom-right heatmaps keep their local maxima; the top ``k`` corners of each are
paired all-against-all (``k x k`` candidates). A corner's position is its pixel plus its
predicted offset, scaled to the padded input and shifted by the test crop's ``border``
(clamped at 0). A pair scores the mean of its two corner scores, or ``-1`` when the classes
differ, the embeddings are further apart than ``distance_threshold``, or the box is empty.
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

__all__ = ["decode_corner_heatmap"]


def decode_corner_heatmap(tl_heat: Tensor, br_heat: Tensor, tl_off: Tensor, br_off: Tensor,
                          tl_emb: Tensor, br_emb: Tensor, img_meta: dict, k: int = 100,
                          kernel: int = 3, distance_threshold: float = 0.5,
                          num_dets: int = 1000) -> tuple[Tensor, Tensor, Tensor]:
    """Boxes of corner pairs.

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
    batch, num_classes, height, width = tl_heat.size()
    if k > num_classes * height * width or k * k < num_dets:
        raise ValueError(f"CornerHead: test_cfg corner_topk={k} must be at most the heatmap's "
                         f"{num_classes}x{height}x{width} values and its square at least "
                         f"{num_dets} (the pairs ranked)")
    inp_h, inp_w = img_meta["pad_shape"][:2]
    tl_scores, tl_inds, tl_clses, tl_ys, tl_xs = get_topk_from_heatmap(
        get_local_maximum(tl_heat, kernel=kernel), k=k)
    br_scores, br_inds, br_clses, br_ys, br_xs = get_topk_from_heatmap(
        get_local_maximum(br_heat, kernel=kernel), k=k)

    # top-left corners index rows, bottom-right corners columns: [B, k, k]
    tl_ys = tl_ys.reshape(batch, k, 1).repeat(1, 1, k)
    tl_xs = tl_xs.reshape(batch, k, 1).repeat(1, 1, k)
    br_ys = br_ys.reshape(batch, 1, k).repeat(1, k, 1)
    br_xs = br_xs.reshape(batch, 1, k).repeat(1, k, 1)
    tl_off = transpose_and_gather_feat(tl_off, tl_inds).reshape(batch, k, 1, 2)
    br_off = transpose_and_gather_feat(br_off, br_inds).reshape(batch, 1, k, 2)
    tl_xs = (tl_xs + tl_off[..., 0]) * (inp_w / width)
    tl_ys = (tl_ys + tl_off[..., 1]) * (inp_h / height)
    br_xs = (br_xs + br_off[..., 0]) * (inp_w / width)
    br_ys = (br_ys + br_off[..., 1]) * (inp_h / height)

    x_off, y_off = 0, 0
    if "border" in img_meta:
        x_off, y_off = img_meta["border"][2], img_meta["border"][0]
    zeros = tl_xs.new_zeros(tl_xs.size())
    tl_xs, tl_ys = tl_xs - x_off, tl_ys - y_off
    br_xs, br_ys = br_xs - x_off, br_ys - y_off
    tl_xs = torch.where(tl_xs > 0.0, tl_xs, zeros)
    tl_ys = torch.where(tl_ys > 0.0, tl_ys, zeros)
    br_xs = torch.where(br_xs > 0.0, br_xs, zeros)
    br_ys = torch.where(br_ys > 0.0, br_ys, zeros)
    bboxes = torch.stack((tl_xs, tl_ys, br_xs, br_ys), dim=3)  # [B, k, k, 4]

    tl_emb = transpose_and_gather_feat(tl_emb, tl_inds).reshape(batch, k, 1)
    br_emb = transpose_and_gather_feat(br_emb, br_inds).reshape(batch, 1, k)
    dists = torch.abs(tl_emb - br_emb)

    scores = (tl_scores.reshape(batch, k, 1).repeat(1, 1, k)
              + br_scores.reshape(batch, 1, k).repeat(1, k, 1)) / 2
    tl_clses = tl_clses.reshape(batch, k, 1).repeat(1, 1, k)
    br_clses = br_clses.reshape(batch, 1, k).repeat(1, k, 1)
    rejected = ((tl_clses != br_clses) | (br_xs <= tl_xs) | (br_ys <= tl_ys)
                | (dists > distance_threshold))
    scores = torch.where(rejected, -torch.ones_like(scores), scores)

    scores, inds = torch.topk(scores.reshape(batch, -1), num_dets)
    bboxes = gather_feat(bboxes.reshape(batch, -1, 4), inds)
    clses = gather_feat(tl_clses.reshape(batch, -1, 1), inds).float()
    return bboxes, scores.unsqueeze(2), clses
