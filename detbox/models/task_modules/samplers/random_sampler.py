"""Uniform random sampling of positives and negatives (``type='RandomSampler'``).

Draws use torch's global RNG (``torch.randperm``), as MMDetection v2's sampler does, so
``torch.manual_seed`` makes them repeatable.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from detbox.registry import TASK_UTILS

from ..assigners.assign_result import AssignResult
from .base_sampler import BaseSampler

__all__ = ["RandomSampler"]


@TASK_UTILS.register_module()
class RandomSampler(BaseSampler):
    """Sample positives and negatives uniformly at random.

    Args:
        num: total number of samples wanted.
        pos_fraction: fraction of ``num`` to fill with positives at most.
        neg_pos_ub: if non-negative, at most ``neg_pos_ub * max(1, #positives)`` negatives.
        add_gt_as_proposals: add the ground-truth boxes to the candidates.
        rng: accepted for MMDetection compatibility and unused (draws use torch's RNG).
        **kwargs: ``context`` (see :class:`BaseSampler`).
    """

    def __init__(self, num: int, pos_fraction: float, neg_pos_ub: float = -1,
                 add_gt_as_proposals: bool = True, rng: Any = None, **kwargs: Any) -> None:
        super().__init__(num, pos_fraction, neg_pos_ub, add_gt_as_proposals, **kwargs)
        self.rng = rng

    def random_choice(self, gallery: Tensor | np.ndarray | list, num: int) -> Tensor | np.ndarray:
        """``num`` distinct elements of ``gallery`` in random order.

        Args:
            gallery: the pool (a tensor, or an array/list of indices).
            num: how many to draw, at most ``len(gallery)``.

        Returns:
            A tensor for a tensor pool, else a NumPy array.
        """
        if len(gallery) < num:
            raise AssertionError(f"cannot draw {num} samples from {len(gallery)}")
        is_tensor = isinstance(gallery, torch.Tensor)
        if not is_tensor:
            gallery = torch.tensor(gallery, dtype=torch.long)
        perm = torch.randperm(gallery.numel())[:num].to(device=gallery.device)
        rand_inds = gallery[perm]
        return rand_inds if is_tensor else rand_inds.cpu().numpy()

    def _sample_pos(self, assign_result: AssignResult, num_expected: int,
                    **kwargs: Any) -> Tensor:
        """Up to ``num_expected`` random positives (all of them if there are fewer)."""
        pos_inds = torch.nonzero(assign_result.gt_inds > 0, as_tuple=False)
        if pos_inds.numel() != 0:
            pos_inds = pos_inds.squeeze(1)
        if pos_inds.numel() <= num_expected:
            return pos_inds
        return self.random_choice(pos_inds, num_expected)

    def _sample_neg(self, assign_result: AssignResult, num_expected: int,
                    **kwargs: Any) -> Tensor:
        """Up to ``num_expected`` random negatives (all of them if there are fewer)."""
        neg_inds = torch.nonzero(assign_result.gt_inds == 0, as_tuple=False)
        if neg_inds.numel() != 0:
            neg_inds = neg_inds.squeeze(1)
        if len(neg_inds) <= num_expected:
            return neg_inds
        return self.random_choice(neg_inds, num_expected)
