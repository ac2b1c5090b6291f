"""A sampler that samples nothing away (``type='PseudoSampler'``): every positive and negative.

Used by heads that weight all boxes in the loss (RetinaNet, FCOS, ATSS, ...).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from detbox.registry import TASK_UTILS

from ..assigners.assign_result import AssignResult
from .base_sampler import BaseSampler
from .sampling_result import SamplingResult

__all__ = ["PseudoSampler"]


@TASK_UTILS.register_module()
class PseudoSampler(BaseSampler):
    """Return every positive (``gt_inds > 0``) and every negative (``gt_inds == 0``).

    Takes and ignores any keyword argument, as MMDetection's does (heads pass ``context``).
    """

    _accepts_any_kwargs = True

    def __init__(self, **kwargs: Any) -> None:
        self.context = kwargs.get("context")

    def _sample_pos(self, assign_result: AssignResult, num_expected: int,
                    **kwargs: Any) -> Tensor:
        raise NotImplementedError

    def _sample_neg(self, assign_result: AssignResult, num_expected: int,
                    **kwargs: Any) -> Tensor:
        raise NotImplementedError

    def sample(self, assign_result: AssignResult, bboxes: Tensor, gt_bboxes: Tensor,
               *args: Any, **kwargs: Any) -> SamplingResult:
        """All positives and negatives of ``assign_result``, ground truths not added.

        Args:
            assign_result: the assignment of ``bboxes``.
            bboxes: ``Tensor[N, 4]`` candidates.
            gt_bboxes: ``Tensor[K, 4]`` ground truths.
        """
        pos_inds = torch.nonzero(assign_result.gt_inds > 0, as_tuple=False).squeeze(-1).unique()
        neg_inds = torch.nonzero(assign_result.gt_inds == 0, as_tuple=False).squeeze(-1).unique()
        gt_flags = bboxes.new_zeros(bboxes.shape[0], dtype=torch.uint8)
        return SamplingResult(pos_inds, neg_inds, bboxes, gt_bboxes, assign_result, gt_flags)
