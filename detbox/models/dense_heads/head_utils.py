"""Helpers of dense heads: their conv towers, score filtering, averaging over processes.

>>> scores = torch.tensor([[0.1, 0.9], [0.6, 0.2], [0.3, 0.7]])
>>> kept, labels, idxs, _ = filter_scores_and_topk(scores, 0.25, 2)
>>> kept, labels, idxs
(tensor([0.9000, 0.7000]), tensor([1, 1]), tensor([0, 2]))
"""

from __future__ import annotations

from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor, nn

from ..layers import ConvModule

__all__ = ["conv_towers", "filter_scores_and_topk", "mean_count", "reduce_mean", "run_towers"]


def conv_towers(num_convs: int, in_channels: int, feat_channels: int,
                conv_cfg: dict | None = None, norm_cfg: dict | None = None,
                first_conv_cfg: dict | None = None) -> tuple[nn.ModuleList, nn.ModuleList]:
    """The classification and regression towers of a RetinaNet-style head.

    Each is ``num_convs`` 3x3 :class:`ConvModule` (``in_channels`` into the first,
    ``feat_channels`` out of each), built alternately (cls 0, reg 0, cls 1, ...) as MMDetection
    does, so seeded initialisation matches. ``first_conv_cfg`` replaces ``conv_cfg`` for the
    first conv of both (DDOD's DCN).
    """
    cls_convs, reg_convs = nn.ModuleList(), nn.ModuleList()
    for i in range(num_convs):
        channels = in_channels if i == 0 else feat_channels
        cfg = first_conv_cfg if i == 0 and first_conv_cfg is not None else conv_cfg
        for tower in (cls_convs, reg_convs):
            tower.append(ConvModule(channels, feat_channels, 3, stride=1, padding=1,
                                    conv_cfg=cfg, norm_cfg=norm_cfg))
    return cls_convs, reg_convs


def run_towers(x: Tensor, cls_convs: nn.ModuleList,
               reg_convs: nn.ModuleList) -> tuple[Tensor, Tensor]:
    """``(cls_feat, reg_feat)``: ``x`` through each tower of :func:`conv_towers`."""
    cls_feat = x
    for conv in cls_convs:
        cls_feat = conv(cls_feat)
    reg_feat = x
    for conv in reg_convs:
        reg_feat = conv(reg_feat)
    return cls_feat, reg_feat


def filter_scores_and_topk(scores: Tensor, score_thr: float, topk: int,
                           results: dict | list | Tensor | None = None
                           ) -> tuple[Tensor, Tensor, Tensor, Any]:
    """Keep the ``(prior, class)`` pairs scoring above ``score_thr``, then the ``topk`` best.

    Pairs are taken in row-major order (prior by prior, class by class) and ranked by a
    descending sort, as MMDetection 2.28 does (``nms_pre`` per level).

    Note:
        As in MMDetection, ``topk`` is used as ``min(topk, num_valid)``, so a negative
        ``topk`` (``nms_pre=-1``) slices off the last ``|topk|`` pairs instead of keeping all.

    Args:
        scores: ``Tensor[N, C]`` class scores of ``N`` priors.
        score_thr: pairs need a score strictly above this.
        topk: how many pairs to keep at most.
        results: a dict, list or tensor of per-prior values (``Tensor[N, ...]``) to select
            for the kept pairs.

    Returns:
        ``(scores[K], labels[K], prior_idxs[K], selected results)``, best score first.
    """
    valid_mask = scores > score_thr
    scores = scores[valid_mask]
    valid_idxs = torch.nonzero(valid_mask)  # [M, 2] (prior, class)
    num_topk = min(topk, valid_idxs.size(0))
    scores, idxs = scores.sort(descending=True)
    scores = scores[:num_topk]
    keep_idxs, labels = valid_idxs[idxs[:num_topk]].unbind(dim=1)
    if results is None:
        filtered = None
    elif isinstance(results, dict):
        filtered = {k: v[keep_idxs] for k, v in results.items()}
    elif isinstance(results, list):
        filtered = [v[keep_idxs] for v in results]
    elif isinstance(results, Tensor):
        filtered = results[keep_idxs]
    else:
        raise NotImplementedError(f"results must be a dict, list or Tensor, got {type(results)}")
    return scores, labels, keep_idxs, filtered


def reduce_mean(tensor: Tensor) -> Tensor:
    """The mean of ``tensor`` over all processes (itself when not distributed)."""
    if not (dist.is_available() and dist.is_initialized()):
        return tensor
    tensor = tensor.clone()
    dist.all_reduce(tensor.div_(dist.get_world_size()), op=dist.ReduceOp.SUM)
    return tensor


def mean_count(count: float, device: torch.device | str) -> float:
    """A count (positives, samples) averaged over all processes, at least 1: the
    ``avg_factor`` the dense heads divide their losses by."""
    return max(reduce_mean(torch.tensor(count, dtype=torch.float, device=device)).item(), 1.0)
