"""Boxes as normalised distances from a prior's center to their sides (``TBLRBBoxCoder``).

FSAF regresses, for a prior box of size ``(w, h)`` centered at ``(cx, cy)``, the distances
``(top, bottom, left, right)`` from that center to the target's sides, divided by ``h`` (top,
bottom) or ``w`` (left, right) and by ``normalizer``.

>>> coder = TBLRBBoxCoder(normalizer=4.0)
>>> priors = torch.tensor([[0.0, 0.0, 8.0, 8.0]])
>>> coder.encode(priors, torch.tensor([[2.0, 0.0, 12.0, 16.0]]))
tensor([[0.1250, 0.3750, 0.0625, 0.2500]])
>>> coder.decode(priors, torch.tensor([[0.125, 0.375, 0.0625, 0.25]]), max_shape=(10, 10))
tensor([[ 2.,  0., 10., 10.]])
"""

from __future__ import annotations

from typing import Sequence, Union

import torch
from torch import Tensor

from detbox.registry import TASK_UTILS

from .base_bbox_coder import BaseBBoxCoder

__all__ = ["TBLRBBoxCoder", "bboxes2tblr", "tblr2bboxes"]

Normalizer = Union[float, Sequence[float]]
MaxShape = Union[Sequence[int], Sequence[Sequence[int]], Tensor]


def _normalizer(normalizer: Normalizer, like: Tensor) -> float | Tensor:
    if isinstance(normalizer, float):
        return normalizer
    value = like.new_tensor(normalizer)
    if value.numel() != 4:
        raise AssertionError(f"TBLRBBoxCoder: normalizer must be a float or 4 values, got "
                             f"{normalizer!r}")
    return value


def bboxes2tblr(priors: Tensor, gts: Tensor, normalizer: Normalizer = 4.0,
                normalize_by_wh: bool = True) -> Tensor:
    """``(top, bottom, left, right)`` of ``gts`` seen from the centers of ``priors``.

    Args:
        priors: ``Tensor[N, 4]`` xyxy prior boxes.
        gts: ``Tensor[N, 4]`` xyxy targets.
        normalizer: divides the distances (one value or one per side).
        normalize_by_wh: also divide top/bottom by the prior's height, left/right by its width.

    Returns:
        ``Tensor[N, 4]``.
    """
    if priors.size(0) != gts.size(0):
        raise AssertionError(f"bboxes2tblr: {priors.size(0)} priors but {gts.size(0)} targets")
    norm = _normalizer(normalizer, priors)
    centers = (priors[:, 0:2] + priors[:, 2:4]) / 2  # [N, 2]
    xmin, ymin, xmax, ymax = gts.split(1, dim=1)
    loc = torch.cat((centers[:, 1:2] - ymin, ymax - centers[:, 1:2],
                     centers[:, 0:1] - xmin, xmax - centers[:, 0:1]), dim=1)
    if normalize_by_wh:
        wh = priors[:, 2:4] - priors[:, 0:2]
        loc[:, :2] /= wh[:, 1:2]
        loc[:, 2:] /= wh[:, 0:1]
    return loc / norm


def tblr2bboxes(priors: Tensor, tblr: Tensor, normalizer: Normalizer = 4.0,
                normalize_by_wh: bool = True, max_shape: MaxShape | None = None,
                clip_border: bool = True) -> Tensor:
    """Inverse of :func:`bboxes2tblr`.

    Args:
        priors: ``Tensor[(B,) N, 4]`` xyxy prior boxes.
        tblr: ``Tensor[(B,) N, 4]`` normalised distances.
        normalizer, normalize_by_wh: as for :func:`bboxes2tblr`.
        max_shape: ``(h, w)`` (one per image for batched input); clamps the boxes when
            ``clip_border``.
        clip_border: whether ``max_shape`` clamps.

    Returns:
        ``Tensor[(B,) N, 4]`` xyxy boxes.
    """
    if priors.size(0) != tblr.size(0):
        raise AssertionError(f"tblr2bboxes: {priors.size(0)} priors but {tblr.size(0)} rows")
    loc = tblr * _normalizer(normalizer, priors)
    centers = (priors[..., 0:2] + priors[..., 2:4]) / 2
    if normalize_by_wh:
        wh = priors[..., 2:4] - priors[..., 0:2]
        w, h = torch.split(wh, 1, dim=-1)
        loc = torch.cat([h * loc[..., :2], w * loc[..., 2:]], dim=-1)
    top, bottom, left, right = loc.split((1, 1, 1, 1), dim=-1)
    cx, cy = centers[..., 0:1], centers[..., 1:2]
    bboxes = torch.cat((cx - left, cy - top, cx + right, cy + bottom), dim=-1)
    if clip_border and max_shape is not None:
        if not isinstance(max_shape, Tensor):
            max_shape = priors.new_tensor(max_shape)
        max_shape = max_shape[..., :2].type_as(priors)
        min_xy = priors.new_tensor(0)
        max_xy = torch.cat([max_shape, max_shape], dim=-1).flip(-1).unsqueeze(-2)  # w,h,w,h
        bboxes = torch.where(bboxes < min_xy, min_xy, bboxes)
        bboxes = torch.where(bboxes > max_xy, max_xy, bboxes)
    return bboxes


@TASK_UTILS.register_module()
class TBLRBBoxCoder(BaseBBoxCoder):
    """Encode boxes as normalised top/bottom/left/right distances (FSAF).

    Args:
        normalizer: divides the distances (one value, or one per side).
        clip_border: clip decoded boxes to ``max_shape`` when it is given.
    """

    def __init__(self, normalizer: Normalizer = 4.0, clip_border: bool = True) -> None:
        super().__init__()
        self.normalizer = normalizer
        self.clip_border = clip_border

    def encode(self, bboxes: Tensor, gt_bboxes: Tensor) -> Tensor:
        """``Tensor[N, 4]`` distances of ``gt_bboxes`` from the centers of ``bboxes``."""
        if bboxes.size(0) != gt_bboxes.size(0) or not bboxes.size(-1) == gt_bboxes.size(-1) == 4:
            raise AssertionError(f"TBLRBBoxCoder.encode: boxes {tuple(bboxes.shape)} and "
                                 f"targets {tuple(gt_bboxes.shape)} must both be [N, 4]")
        return bboxes2tblr(bboxes, gt_bboxes, normalizer=self.normalizer)

    def decode(self, bboxes: Tensor, pred_bboxes: Tensor,
               max_shape: MaxShape | None = None) -> Tensor:
        """Boxes ``Tensor[(B,) N, 4]`` from priors and predicted distances."""
        return tblr2bboxes(bboxes, pred_bboxes, normalizer=self.normalizer, max_shape=max_shape,
                           clip_border=self.clip_border)
