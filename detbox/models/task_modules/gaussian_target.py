"""Keypoint-heatmap helpers of CornerNet / CenterNet: gaussian targets and heatmap decoding.

Targets: a ground-truth corner is a 2-D gaussian of ``sigma = (2r + 1) / 6`` drawn (by element-
wise maximum) at its integer location, ``r`` from :func:`gaussian_radius` (the radius within
which a shifted box keeps IoU ``>= min_overlap`` with the ground truth).
Decoding: keep local maxima (:func:`get_local_maximum`), take the top ``k`` over classes and
pixels (:func:`get_topk_from_heatmap`), gather per-pixel predictions at those indices.

>>> import torch
>>> heat = gen_gaussian_target(torch.zeros(5, 5), [1, 2], radius=1)
>>> heat[2, 1].item(), heat[2, 3].item()
(1.0, 0.0)
"""

from __future__ import annotations

from math import sqrt
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["gaussian2d", "gen_gaussian_target", "gaussian_radius", "get_local_maximum",
           "get_topk_from_heatmap", "gather_feat", "transpose_and_gather_feat"]


def gaussian2d(radius: int, sigma: float = 1, dtype: torch.dtype = torch.float32,
               device: torch.device | str = "cpu") -> Tensor:
    """Unnormalized gaussian ``Tensor[2r+1, 2r+1]`` (peak 1); values below ``eps * max`` are 0."""
    coords = torch.arange(-radius, radius + 1, dtype=dtype, device=device)
    x, y = coords.view(1, -1), coords.view(-1, 1)
    kernel = (-(x * x + y * y) / (2 * sigma * sigma)).exp()
    kernel[kernel < torch.finfo(kernel.dtype).eps * kernel.max()] = 0
    return kernel


def gen_gaussian_target(heatmap: Tensor, center: Sequence[int], radius: int,
                        k: float = 1) -> Tensor:
    """Draw a gaussian of ``radius`` (scaled by ``k``) at ``center = (x, y)`` into
    ``heatmap: Tensor[H, W]`` in place, keeping the maximum; returns ``heatmap``."""
    kernel = gaussian2d(radius, sigma=(2 * radius + 1) / 6, dtype=heatmap.dtype,
                        device=heatmap.device)
    x, y = int(center[0]), int(center[1])
    height, width = heatmap.shape[:2]
    left, right = min(x, radius), min(width - x, radius + 1)
    top, bottom = min(y, radius), min(height - y, radius + 1)
    region = heatmap[y - top:y + bottom, x - left:x + right]
    patch = kernel[radius - top:radius + bottom, radius - left:radius + right]
    torch.maximum(region, patch * k, out=region)
    return heatmap


def gaussian_radius(det_size: Sequence[float], min_overlap: float) -> float:
    """Radius of corner displacement keeping IoU ``>= min_overlap`` for a box of
    ``det_size = (height, width)``: the smallest root of CornerNet's three cases (both corners
    inside, both outside, one each), as MMDetection computes them."""
    height, width = det_size
    b1 = height + width
    c1 = width * height * (1 - min_overlap) / (1 + min_overlap)
    r1 = (b1 - sqrt(b1 ** 2 - 4 * c1)) / 2
    b2 = 2 * (height + width)
    c2 = (1 - min_overlap) * width * height
    r2 = (b2 - sqrt(b2 ** 2 - 16 * c2)) / 8
    a3 = 4 * min_overlap
    b3 = -2 * min_overlap * (height + width)
    c3 = (min_overlap - 1) * width * height
    r3 = (b3 + sqrt(b3 ** 2 - 4 * a3 * c3)) / (2 * a3)
    return min(r1, r2, r3)


def get_local_maximum(heat: Tensor, kernel: int = 3) -> Tensor:
    """``heat: Tensor[B, C, H, W]`` with every value that is not the maximum of its
    ``kernel x kernel`` neighbourhood set to 0."""
    hmax = F.max_pool2d(heat, kernel, stride=1, padding=(kernel - 1) // 2)
    return heat * (hmax == heat).float()


def get_topk_from_heatmap(scores: Tensor, k: int = 20
                          ) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """Top ``k`` of ``scores: Tensor[B, C, H, W]`` over classes and pixels.

    Returns ``Tensor[B, k]`` each: scores, pixel indices (``y * W + x``), classes, ``y`` and
    ``x`` (float).
    """
    batch, _, height, width = scores.size()
    topk_scores, topk_inds = torch.topk(scores.reshape(batch, -1), k)
    topk_clses = topk_inds // (height * width)
    topk_inds = topk_inds % (height * width)
    topk_ys = topk_inds // width
    topk_xs = (topk_inds % width).int().float()
    return topk_scores, topk_inds, topk_clses, topk_ys, topk_xs


def gather_feat(feat: Tensor, ind: Tensor) -> Tensor:
    """``feat: Tensor[B, N, D]`` at ``ind: Tensor[B, K]`` -> ``Tensor[B, K, D]``."""
    return feat.gather(1, ind.unsqueeze(2).repeat(1, 1, feat.size(2)))


def transpose_and_gather_feat(feat: Tensor, ind: Tensor) -> Tensor:
    """``feat: Tensor[B, D, H, W]`` at pixel indices ``ind: Tensor[B, K]`` ->
    ``Tensor[B, K, D]``."""
    feat = feat.permute(0, 2, 3, 1).reshape(feat.size(0), -1, feat.size(1))  # [B, H*W, D]
    return gather_feat(feat, ind)
