"""Mask targets of positive RoIs: each RoI's ground-truth mask cropped and resized."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch
from torch import Tensor
from torch.nn.modules.utils import _pair

__all__ = ["mask_target", "mask_target_single"]


def mask_target_single(pos_proposals: Tensor, pos_assigned_gt_inds: Tensor, gt_masks: Any,
                       cfg: Any) -> Tensor:
    """Targets ``Tensor[P, h, w]`` (float 0/1) of one image's positive RoIs.

    Args:
        pos_proposals: ``Tensor[P, 4]`` positive RoIs (xyxy, in the masks' pixels); they are
            clipped to the mask size first.
        pos_assigned_gt_inds: ``Tensor[P]`` index of each RoI's ground truth.
        gt_masks: the image's ``BitmapMasks`` or ``PolygonMasks``.
        cfg: has ``mask_size`` (int or ``(h, w)``) and optionally ``soft_mask_target``.
    """
    device = pos_proposals.device
    mask_size = _pair(cfg["mask_size"])
    binarize = not cfg.get("soft_mask_target", False)
    if pos_proposals.size(0) == 0:
        return pos_proposals.new_zeros((0,) + mask_size)
    proposals = pos_proposals.detach().cpu().numpy()
    proposals[:, [0, 2]] = np.clip(proposals[:, [0, 2]], 0, gt_masks.width)
    proposals[:, [1, 3]] = np.clip(proposals[:, [1, 3]], 0, gt_masks.height)
    targets = gt_masks.crop_and_resize(proposals, mask_size, device=device,
                                       inds=pos_assigned_gt_inds.cpu().numpy(),
                                       binarize=binarize).to_ndarray()
    return torch.from_numpy(targets).float().to(device)


def mask_target(pos_proposals_list: Sequence[Tensor], pos_assigned_gt_inds_list: Sequence[Tensor],
                gt_masks_list: Sequence[Any], cfg: Any) -> Tensor | list:
    """Targets of every image's positive RoIs, concatenated: ``Tensor[sum P, h, w]``."""
    targets = [mask_target_single(p, i, m, cfg) for p, i, m in
               zip(pos_proposals_list, pos_assigned_gt_inds_list, gt_masks_list)]
    return torch.cat(targets) if targets else targets
