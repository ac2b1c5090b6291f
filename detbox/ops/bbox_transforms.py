"""Box format conversions and mappings of MMDetection v2 (``mmdet.core.bbox.transforms``).

Boxes are ``xyxy`` in pixels unless a name says otherwise; RoIs are ``(batch_index, x1, y1,
x2, y2)``.

>>> bbox_xyxy_to_cxcywh(torch.tensor([[0.0, 0.0, 4.0, 2.0]]))
tensor([[2., 1., 4., 2.]])
>>> bbox2roi([torch.tensor([[0.0, 0.0, 4.0, 2.0]]), torch.zeros(0, 4)])
tensor([[0., 0., 0., 4., 2.]])
"""

from __future__ import annotations

from typing import Sequence, Union

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "bbox_flip", "bbox_mapping", "bbox_mapping_back", "bbox2roi", "roi2bbox", "bbox2result",
    "distance2bbox", "bbox2distance", "bbox_rescale", "bbox_cxcywh_to_xyxy",
    "bbox_xyxy_to_cxcywh", "find_inside_bboxes", "clamp_bboxes",
]

_DIRECTIONS = ("horizontal", "vertical", "diagonal")
MaxShape = Union[Sequence[int], Sequence[Sequence[int]], Tensor]


def find_inside_bboxes(bboxes: Tensor, img_h: int, img_w: int) -> Tensor:
    """``Tensor[N]`` bool: which ``xyxy`` boxes (``Tensor[N, 4]``) overlap the image at all."""
    return ((bboxes[:, 0] < img_w) & (bboxes[:, 2] > 0)
            & (bboxes[:, 1] < img_h) & (bboxes[:, 3] > 0))


def bbox_flip(bboxes: Tensor, img_shape: Sequence[int], direction: str = "horizontal") -> Tensor:
    """Flip boxes inside an image of ``img_shape = (h, w, ...)``.

    Args:
        bboxes: ``Tensor[..., 4 * k]`` xyxy (k boxes per row).
        img_shape: ``(h, w)`` of the image the boxes live in.
        direction: ``'horizontal'``, ``'vertical'`` or ``'diagonal'`` (both).

    Returns:
        The flipped boxes, same shape; ``x' = w - x`` with x1 and x2 swapped (and likewise y).
    """
    if bboxes.shape[-1] % 4 != 0:
        raise AssertionError(f"bbox_flip: last dim must be a multiple of 4, got "
                             f"{tuple(bboxes.shape)}")
    if direction not in _DIRECTIONS:
        raise AssertionError(f"bbox_flip: direction must be one of {_DIRECTIONS}, got "
                             f"{direction!r}")
    flipped = bboxes.clone()
    if direction in ("horizontal", "diagonal"):
        flipped[..., 0::4] = img_shape[1] - bboxes[..., 2::4]
        flipped[..., 2::4] = img_shape[1] - bboxes[..., 0::4]
    if direction in ("vertical", "diagonal"):
        flipped[..., 1::4] = img_shape[0] - bboxes[..., 3::4]
        flipped[..., 3::4] = img_shape[0] - bboxes[..., 1::4]
    return flipped


def bbox_mapping(bboxes: Tensor, img_shape: Sequence[int], scale_factor: Sequence[float] | float,
                 flip: bool, flip_direction: str = "horizontal") -> Tensor:
    """Map boxes from the original image to a test-time view: scale, then flip.

    Args:
        bboxes: ``Tensor[N, 4]`` xyxy in original-image pixels.
        img_shape: ``(h, w)`` of the scaled image (the flip's frame).
        scale_factor: ``(w, h, w, h)`` factors (or one number).
        flip: whether the view is flipped.
        flip_direction: as for :func:`bbox_flip`.
    """
    new_bboxes = bboxes * bboxes.new_tensor(scale_factor)
    if flip:
        new_bboxes = bbox_flip(new_bboxes, img_shape, flip_direction)
    return new_bboxes


def bbox_mapping_back(bboxes: Tensor, img_shape: Sequence[int],
                      scale_factor: Sequence[float] | float, flip: bool,
                      flip_direction: str = "horizontal") -> Tensor:
    """Inverse of :func:`bbox_mapping`: unflip, then divide by ``scale_factor``.

    Args:
        bboxes: ``Tensor[..., 4 * k]`` xyxy in the test-time view.
        img_shape: ``(h, w)`` of the view.
        scale_factor: ``(w, h, w, h)`` factors (or one number).
        flip: whether the view is flipped.
        flip_direction: as for :func:`bbox_flip`.
    """
    new_bboxes = bbox_flip(bboxes, img_shape, flip_direction) if flip else bboxes
    new_bboxes = new_bboxes.view(-1, 4) / new_bboxes.new_tensor(scale_factor)
    return new_bboxes.view(bboxes.shape)


def bbox2roi(bbox_list: Sequence[Tensor]) -> Tensor:
    """Stack per-image boxes into RoIs.

    Args:
        bbox_list: per image, ``Tensor[n_i, 4+]`` (columns past 4, such as scores, are dropped).

    Returns:
        ``Tensor[sum n_i, 5]``: ``(image_index, x1, y1, x2, y2)``.
    """
    rois_list = []
    for img_id, bboxes in enumerate(bbox_list):
        if bboxes.size(0) > 0:
            img_inds = bboxes.new_full((bboxes.size(0), 1), img_id)
            rois_list.append(torch.cat([img_inds, bboxes[:, :4]], dim=-1))
        else:
            rois_list.append(bboxes.new_zeros((0, 5)))
    return torch.cat(rois_list, 0)


def roi2bbox(rois: Tensor) -> list[Tensor]:
    """Split RoIs (``Tensor[n, 5]``) back into per-image ``Tensor[n_i, 4]`` boxes.

    Only images that have at least one RoI get an entry, in increasing image index.
    """
    bbox_list = []
    img_ids = torch.unique(rois[:, 0].cpu(), sorted=True)
    for img_id in img_ids:
        inds = rois[:, 0] == img_id.item()
        bbox_list.append(rois[inds, 1:])
    return bbox_list


def bbox2result(bboxes: Tensor | np.ndarray, labels: Tensor | np.ndarray,
                num_classes: int) -> list[np.ndarray]:
    """Detections as the per-class list of arrays that test tools and evaluators take.

    Args:
        bboxes: ``[n, 5]`` (``x1, y1, x2, y2, score``), tensor or array.
        labels: ``[n]`` 0-based class indices.
        num_classes: number of (foreground) classes.

    Returns:
        ``num_classes`` arrays; entry ``c`` is ``np.ndarray[n_c, 5]`` of the class-``c`` rows.
    """
    if bboxes.shape[0] == 0:
        return [np.zeros((0, 5), dtype=np.float32) for _ in range(num_classes)]
    if isinstance(bboxes, torch.Tensor):
        bboxes = bboxes.detach().cpu().numpy()
        labels = labels.detach().cpu().numpy()
    return [bboxes[labels == i, :] for i in range(num_classes)]


def distance2bbox(points: Tensor, distance: Tensor, max_shape: MaxShape | None = None) -> Tensor:
    """Boxes from a point and its distances to the four sides.

    Args:
        points: ``Tensor[N, 2]`` or ``Tensor[B, N, 2]`` ``(x, y)``.
        distance: ``Tensor[N, 4]`` or ``Tensor[B, N, 4]`` ``(left, top, right, bottom)``.
        max_shape: ``(h, w)`` to clamp to (or, for batched input, one ``(h, w)`` per image).

    Returns:
        ``Tensor[N, 4]`` or ``Tensor[B, N, 4]`` xyxy.
    """
    x1 = points[..., 0] - distance[..., 0]
    y1 = points[..., 1] - distance[..., 1]
    x2 = points[..., 0] + distance[..., 2]
    y2 = points[..., 1] + distance[..., 3]
    bboxes = torch.stack([x1, y1, x2, y2], -1)
    if max_shape is None:
        return bboxes
    if bboxes.dim() == 2:
        bboxes[:, 0::2].clamp_(min=0, max=max_shape[1])
        bboxes[:, 1::2].clamp_(min=0, max=max_shape[0])
        return bboxes
    return clamp_bboxes(bboxes, max_shape)


def clamp_bboxes(bboxes: Tensor, max_shape: MaxShape) -> Tensor:
    """Clamp xyxy boxes into their images (out of place).

    Args:
        bboxes: ``Tensor[..., 4 * k]`` or ``Tensor[B, N, 4 * k]`` xyxy (k boxes per row).
        max_shape: ``(h, w, ...)`` for all boxes, or ``Tensor[B, 2+]`` / one ``(h, w)`` per
            image of a batch.

    Returns:
        The boxes with x clamped to ``[0, w]`` and y to ``[0, h]``.
    """
    if not isinstance(max_shape, torch.Tensor):
        max_shape = bboxes.new_tensor(max_shape)
    max_shape = max_shape[..., :2].type_as(bboxes)
    if max_shape.ndim == 2:
        if not (bboxes.ndim == 3 and max_shape.size(0) == bboxes.size(0)):
            raise AssertionError(f"one max_shape per image expected: {tuple(max_shape.shape)} "
                                 f"for boxes {tuple(bboxes.shape)}")
    min_xy = bboxes.new_tensor(0)
    # (h, w) repeated to the box width, reversed: (w, h, w, h, ...)
    max_xy = torch.cat([max_shape] * (bboxes.size(-1) // 2), dim=-1).flip(-1).unsqueeze(-2)
    bboxes = torch.where(bboxes < min_xy, min_xy, bboxes)
    return torch.where(bboxes > max_xy, max_xy, bboxes)


def bbox2distance(points: Tensor, bbox: Tensor, max_dis: float | None = None,
                  eps: float = 0.1) -> Tensor:
    """Distances from points to the sides of boxes (inverse of :func:`distance2bbox`).

    Args:
        points: ``Tensor[N, 2]`` ``(x, y)``.
        bbox: ``Tensor[N, 4]`` xyxy.
        max_dis: if given, clamp each distance to ``[0, max_dis - eps]``.
        eps: keeps clamped distances strictly below ``max_dis``.

    Returns:
        ``Tensor[N, 4]`` ``(left, top, right, bottom)``.
    """
    left = points[:, 0] - bbox[:, 0]
    top = points[:, 1] - bbox[:, 1]
    right = bbox[:, 2] - points[:, 0]
    bottom = bbox[:, 3] - points[:, 1]
    if max_dis is not None:
        left = left.clamp(min=0, max=max_dis - eps)
        top = top.clamp(min=0, max=max_dis - eps)
        right = right.clamp(min=0, max=max_dis - eps)
        bottom = bottom.clamp(min=0, max=max_dis - eps)
    return torch.stack([left, top, right, bottom], -1)


def bbox_rescale(bboxes: Tensor, scale_factor: float = 1.0) -> Tensor:
    """Scale boxes' width and height by ``scale_factor`` about their centers.

    Args:
        bboxes: ``Tensor[n, 4]`` xyxy, or ``Tensor[n, 5]`` RoIs (the index column is kept).
        scale_factor: the factor.
    """
    is_roi = bboxes.size(1) == 5
    boxes = bboxes[:, 1:] if is_roi else bboxes
    cx = (boxes[:, 0] + boxes[:, 2]) * 0.5
    cy = (boxes[:, 1] + boxes[:, 3]) * 0.5
    w = (boxes[:, 2] - boxes[:, 0]) * scale_factor
    h = (boxes[:, 3] - boxes[:, 1]) * scale_factor
    coords = [cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h]
    if is_roi:
        coords.insert(0, bboxes[:, 0])
    return torch.stack(coords, dim=-1)


def bbox_cxcywh_to_xyxy(bbox: Tensor) -> Tensor:
    """``Tensor[..., 4]`` ``(cx, cy, w, h)`` to ``(x1, y1, x2, y2)``."""
    cx, cy, w, h = bbox.split((1, 1, 1, 1), dim=-1)
    return torch.cat([cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h], dim=-1)


def bbox_xyxy_to_cxcywh(bbox: Tensor) -> Tensor:
    """``Tensor[..., 4]`` ``(x1, y1, x2, y2)`` to ``(cx, cy, w, h)``."""
    x1, y1, x2, y2 = bbox.split((1, 1, 1, 1), dim=-1)
    return torch.cat([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], dim=-1)
