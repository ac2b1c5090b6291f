"""Paste RoI mask predictions back into the image (MMDetection's ``_do_paste_mask``)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["paste_masks"]


def paste_masks(masks: Tensor, boxes: Tensor, img_h: int, img_w: int,
                skip_empty: bool = True) -> tuple[Tensor, tuple]:
    """Resample ``masks: Tensor[N, 1, h, w]`` into their ``boxes: Tensor[N, 4]`` of an image.

    Each pixel centre ``(x + 0.5, y + 0.5)`` is mapped into its box's ``[-1, 1]`` range and
    read with ``grid_sample`` (bilinear, ``align_corners=False``, zeros outside).

    Args:
        img_h, img_w: size of the image to paste into.
        skip_empty: only fill the region that bounds all boxes (one pixel of margin) and
            return it with its slices; otherwise the whole image and ``()``.

    Returns:
        ``(Tensor[N, H', W'] float, (row slice, column slice) or ())``.
    """
    device = masks.device
    if skip_empty:
        x0_int, y0_int = torch.clamp(boxes.min(dim=0).values.floor()[:2] - 1,
                                     min=0).to(dtype=torch.int32)
        x1_int = torch.clamp(boxes[:, 2].max().ceil() + 1, max=img_w).to(dtype=torch.int32)
        y1_int = torch.clamp(boxes[:, 3].max().ceil() + 1, max=img_h).to(dtype=torch.int32)
    else:
        x0_int, y0_int = 0, 0
        x1_int, y1_int = img_w, img_h
    x0, y0, x1, y1 = torch.split(boxes, 1, dim=1)  # each [N, 1]
    n = masks.shape[0]
    img_y = torch.arange(y0_int, y1_int, device=device).to(torch.float32) + 0.5
    img_x = torch.arange(x0_int, x1_int, device=device).to(torch.float32) + 0.5
    img_y = (img_y - y0) / (y1 - y0) * 2 - 1  # [N, H']
    img_x = (img_x - x0) / (x1 - x0) * 2 - 1  # [N, W']
    img_x = torch.where(torch.isinf(img_x), torch.zeros_like(img_x), img_x)
    img_y = torch.where(torch.isinf(img_y), torch.zeros_like(img_y), img_y)
    gx = img_x[:, None, :].expand(n, img_y.size(1), img_x.size(1))
    gy = img_y[:, :, None].expand(n, img_y.size(1), img_x.size(1))
    grid = torch.stack([gx, gy], dim=3)  # [N, H', W', 2]
    img_masks = F.grid_sample(masks.to(dtype=torch.float32), grid, align_corners=False)
    if skip_empty:
        return img_masks[:, 0], (slice(int(y0_int), int(y1_int)),
                                 slice(int(x0_int), int(x1_int)))
    return img_masks[:, 0], ()
