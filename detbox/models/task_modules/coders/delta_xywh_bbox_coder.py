"""R-CNN box deltas ``(dx, dy, dw, dh)`` (``type='DeltaXYWHBBoxCoder'``), as in MMDetection v2.

For a source box with center ``(px, py)`` and size ``(pw, ph)`` and a target box ``(gx, gy,
gw, gh)``::

    dx = (gx - px) / pw    dy = (gy - py) / ph    dw = log(gw / pw)    dh = log(gh / ph)

then normalised as ``(delta - means) / stds``. Decoding inverts this, with ``dw, dh`` clamped
to ``|log(wh_ratio_clip)|`` and the boxes optionally clipped to the image.

>>> coder = DeltaXYWHBBoxCoder(target_stds=(0.1, 0.1, 0.2, 0.2))
>>> anchors = torch.tensor([[0.0, 0.0, 10.0, 10.0]])
>>> coder.encode(anchors, torch.tensor([[1.0, 0.0, 11.0, 10.0]]))
tensor([[1., 0., 0., 0.]])
>>> coder.decode(anchors, torch.tensor([[1.0, 0.0, 0.0, 0.0]]))
tensor([[ 1.,  0., 11., 10.]])
"""

from __future__ import annotations

import math
from typing import Sequence, Union

import torch
from torch import Tensor

from detbox.ops import clamp_bboxes
from detbox.registry import TASK_UTILS

from .base_bbox_coder import BaseBBoxCoder

__all__ = ["DeltaXYWHBBoxCoder", "bbox2delta", "delta2bbox", "batched_delta2bbox"]

MaxShape = Union[Sequence[int], Sequence[Sequence[int]], Tensor]
_ZEROS = (0.0, 0.0, 0.0, 0.0)
_ONES = (1.0, 1.0, 1.0, 1.0)


def bbox2delta(proposals: Tensor, gt: Tensor, means: Sequence[float] = _ZEROS,
               stds: Sequence[float] = _ONES) -> Tensor:
    """Normalised deltas that move ``proposals`` onto ``gt`` (computed in float32).

    Args:
        proposals: ``Tensor[N, ..., 4]`` xyxy source boxes.
        gt: ``Tensor[N, ..., 4]`` xyxy targets, same shape.
        means: subtracted from the raw deltas.
        stds: the raw deltas minus ``means`` are divided by these.

    Returns:
        ``Tensor[N, ..., 4]`` ``(dx, dy, dw, dh)``.
    """
    if proposals.size() != gt.size():
        raise AssertionError(f"bbox2delta: proposals {tuple(proposals.shape)} and gt "
                             f"{tuple(gt.shape)} differ in shape")
    proposals = proposals.float()
    gt = gt.float()
    px = (proposals[..., 0] + proposals[..., 2]) * 0.5
    py = (proposals[..., 1] + proposals[..., 3]) * 0.5
    pw = proposals[..., 2] - proposals[..., 0]
    ph = proposals[..., 3] - proposals[..., 1]

    gx = (gt[..., 0] + gt[..., 2]) * 0.5
    gy = (gt[..., 1] + gt[..., 3]) * 0.5
    gw = gt[..., 2] - gt[..., 0]
    gh = gt[..., 3] - gt[..., 1]

    deltas = torch.stack([(gx - px) / pw, (gy - py) / ph, torch.log(gw / pw),
                          torch.log(gh / ph)], dim=-1)
    means_t = deltas.new_tensor(means).unsqueeze(0)
    stds_t = deltas.new_tensor(stds).unsqueeze(0)
    return deltas.sub_(means_t).div_(stds_t)


def delta2bbox(rois: Tensor, deltas: Tensor, means: Sequence[float] = _ZEROS,
               stds: Sequence[float] = _ONES, max_shape: Sequence[int] | None = None,
               wh_ratio_clip: float = 16 / 1000, clip_border: bool = True,
               add_ctr_clamp: bool = False, ctr_clamp: float = 32) -> Tensor:
    """Apply deltas to boxes of one image.

    Args:
        rois: ``Tensor[N, 4]`` xyxy base boxes (anchors or proposals).
        deltas: ``Tensor[N, 4 * C]`` normalised deltas, ``C`` classes laid out class by class
            (``dx0, dy0, dw0, dh0, dx1, ...``).
        means: added back after multiplying by ``stds``.
        stds: the deltas are multiplied by these first.
        max_shape: ``(h, w, ...)``; if given with ``clip_border``, x is clamped to ``[0, w]``
            and y to ``[0, h]``.
        wh_ratio_clip: ``dw`` and ``dh`` are clamped to ``[-r, r]`` with
            ``r = |log(wh_ratio_clip)|``.
        clip_border: whether ``max_shape`` clamps the boxes.
        add_ctr_clamp: YOLOF's variant: clamp the center shift to ``[-ctr_clamp, ctr_clamp]``
            pixels and ``dw, dh`` only from above.
        ctr_clamp: the center-shift bound, in pixels.

    Returns:
        ``Tensor[N, 4 * C]`` xyxy boxes (``deltas`` itself when ``N == 0``).
    """
    num_bboxes, num_classes = deltas.size(0), deltas.size(1) // 4
    if num_bboxes == 0:
        return deltas
    deltas = deltas.reshape(-1, 4)  # [N * C, 4]
    means_t = deltas.new_tensor(means).view(1, -1)
    stds_t = deltas.new_tensor(stds).view(1, -1)
    denorm_deltas = deltas * stds_t + means_t
    dxy = denorm_deltas[:, :2]
    dwh = denorm_deltas[:, 2:]

    rois_ = rois.repeat(1, num_classes).reshape(-1, 4)  # [N * C, 4]
    pxy = (rois_[:, :2] + rois_[:, 2:]) * 0.5
    pwh = rois_[:, 2:] - rois_[:, :2]
    dxy_wh = pwh * dxy

    max_ratio = abs(math.log(wh_ratio_clip))
    if add_ctr_clamp:
        dxy_wh = torch.clamp(dxy_wh, max=ctr_clamp, min=-ctr_clamp)
        dwh = torch.clamp(dwh, max=max_ratio)
    else:
        dwh = dwh.clamp(min=-max_ratio, max=max_ratio)

    gxy = pxy + dxy_wh
    gwh = pwh * dwh.exp()
    bboxes = torch.cat([gxy - gwh * 0.5, gxy + gwh * 0.5], dim=-1)
    if clip_border and max_shape is not None:
        bboxes[..., 0::2].clamp_(min=0, max=max_shape[1])
        bboxes[..., 1::2].clamp_(min=0, max=max_shape[0])
    return bboxes.reshape(num_bboxes, -1)


def batched_delta2bbox(rois: Tensor, deltas: Tensor, means: Sequence[float] = _ZEROS,
                       stds: Sequence[float] = _ONES, max_shape: MaxShape | None = None,
                       wh_ratio_clip: float = 16 / 1000, clip_border: bool = True,
                       add_ctr_clamp: bool = False, ctr_clamp: float = 32) -> Tensor:
    """:func:`delta2bbox` for a batch (v2's ``onnx_delta2bbox``, the path of 3-D deltas).

    Args:
        rois: ``Tensor[B, N, 4]`` (or ``Tensor[N, 4]``) xyxy base boxes.
        deltas: ``Tensor[B, N, 4 * C]`` (or ``Tensor[N, 4 * C]``).
        max_shape: ``(h, w)``, or one ``(h, w)`` per image of the batch.
        means, stds, wh_ratio_clip, clip_border, add_ctr_clamp, ctr_clamp: as for
            :func:`delta2bbox`.

    Returns:
        Boxes of the shape of ``deltas``.
    """
    repeats = deltas.size(-1) // 4
    means_t = deltas.new_tensor(means).view(1, -1).repeat(1, repeats)
    stds_t = deltas.new_tensor(stds).view(1, -1).repeat(1, repeats)
    denorm_deltas = deltas * stds_t + means_t
    dx = denorm_deltas[..., 0::4]
    dy = denorm_deltas[..., 1::4]
    dw = denorm_deltas[..., 2::4]
    dh = denorm_deltas[..., 3::4]

    x1, y1, x2, y2 = rois[..., 0], rois[..., 1], rois[..., 2], rois[..., 3]
    px = ((x1 + x2) * 0.5).unsqueeze(-1).expand_as(dx)
    py = ((y1 + y2) * 0.5).unsqueeze(-1).expand_as(dy)
    pw = (x2 - x1).unsqueeze(-1).expand_as(dw)
    ph = (y2 - y1).unsqueeze(-1).expand_as(dh)
    dx_width = pw * dx
    dy_height = ph * dy

    max_ratio = abs(math.log(wh_ratio_clip))
    if add_ctr_clamp:
        dx_width = torch.clamp(dx_width, max=ctr_clamp, min=-ctr_clamp)
        dy_height = torch.clamp(dy_height, max=ctr_clamp, min=-ctr_clamp)
        dw = torch.clamp(dw, max=max_ratio)
        dh = torch.clamp(dh, max=max_ratio)
    else:
        dw = dw.clamp(min=-max_ratio, max=max_ratio)
        dh = dh.clamp(min=-max_ratio, max=max_ratio)
    gw = pw * dw.exp()
    gh = ph * dh.exp()
    gx = px + dx_width
    gy = py + dy_height
    bboxes = torch.stack([gx - gw * 0.5, gy - gh * 0.5, gx + gw * 0.5, gy + gh * 0.5],
                         dim=-1).view(deltas.size())
    if clip_border and max_shape is not None:
        bboxes = clamp_bboxes(bboxes, max_shape)
    return bboxes


@TASK_UTILS.register_module()
class DeltaXYWHBBoxCoder(BaseBBoxCoder):
    """Encode boxes as normalised ``(dx, dy, dw, dh)`` deltas and decode them back.

    Args:
        target_means: means of the deltas (subtracted when encoding).
        target_stds: standard deviations of the deltas (divided by when encoding).
        clip_border: clip decoded boxes to ``max_shape`` when it is given.
        add_ctr_clamp: YOLOF's center clamp (see :func:`delta2bbox`).
        ctr_clamp: YOLOF's maximum center shift, in pixels.
    """

    def __init__(self, target_means: Sequence[float] = _ZEROS,
                 target_stds: Sequence[float] = _ONES, clip_border: bool = True,
                 add_ctr_clamp: bool = False, ctr_clamp: float = 32) -> None:
        super().__init__()
        self.means = target_means
        self.stds = target_stds
        self.clip_border = clip_border
        self.add_ctr_clamp = add_ctr_clamp
        self.ctr_clamp = ctr_clamp

    def encode(self, bboxes: Tensor, gt_bboxes: Tensor) -> Tensor:
        """Deltas ``Tensor[N, 4]`` that turn ``bboxes`` (``Tensor[N, 4]``) into ``gt_bboxes``."""
        if bboxes.size(0) != gt_bboxes.size(0):
            raise AssertionError(f"encode: {bboxes.size(0)} boxes but {gt_bboxes.size(0)} "
                                 "targets")
        if not bboxes.size(-1) == gt_bboxes.size(-1) == 4:
            raise AssertionError(f"encode: boxes must be (N, 4), got {tuple(bboxes.shape)} and "
                                 f"{tuple(gt_bboxes.shape)}")
        return bbox2delta(bboxes, gt_bboxes, self.means, self.stds)

    def decode(self, bboxes: Tensor, pred_bboxes: Tensor, max_shape: MaxShape | None = None,
               wh_ratio_clip: float = 16 / 1000) -> Tensor:
        """Boxes from base boxes and predicted deltas.

        Args:
            bboxes: ``Tensor[N, 4]`` or ``Tensor[B, N, 4]`` xyxy base boxes.
            pred_bboxes: ``Tensor[N, 4 * C]`` or ``Tensor[B, N, 4 * C]`` deltas.
            max_shape: ``(h, w, ...)`` of the image (one per image for batched input).
            wh_ratio_clip: see :func:`delta2bbox`.

        Returns:
            Boxes of the shape of ``pred_bboxes``.
        """
        if pred_bboxes.size(0) != bboxes.size(0):
            raise AssertionError(f"decode: {bboxes.size(0)} boxes but {pred_bboxes.size(0)} "
                                 "deltas")
        if pred_bboxes.ndim == 3 and pred_bboxes.size(1) != bboxes.size(1):
            raise AssertionError(f"decode: boxes {tuple(bboxes.shape)} do not match deltas "
                                 f"{tuple(pred_bboxes.shape)}")
        args = (self.means, self.stds, max_shape, wh_ratio_clip, self.clip_border,
                self.add_ctr_clamp, self.ctr_clamp)
        if pred_bboxes.ndim == 2:
            return delta2bbox(bboxes, pred_bboxes, *args)
        return batched_delta2bbox(bboxes, pred_bboxes, *args)
