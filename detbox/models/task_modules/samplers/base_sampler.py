"""Interface and shared logic of samplers: ``sample(assign_result, bboxes, gt_bboxes, ...)``."""

from __future__ import annotations

from abc import ABCMeta, abstractmethod
from typing import Any

import torch
from torch import Tensor

from ..assigners.assign_result import AssignResult
from .sampling_result import SamplingResult

__all__ = ["BaseSampler"]


class BaseSampler(metaclass=ABCMeta):
    """Picks ``num`` training boxes per image, about ``pos_fraction`` of them positive.

    Subclasses choose which positives and negatives (:meth:`_sample_pos`,
    :meth:`_sample_neg`); :meth:`sample` does the rest.

    Args:
        num: total number of samples wanted.
        pos_fraction: fraction of ``num`` to fill with positives at most.
        neg_pos_ub: if non-negative, at most ``neg_pos_ub * max(1, #positives)`` negatives.
        add_gt_as_proposals: add the ground-truth boxes to the candidates (as positives).
        context: the head that owns the sampler (heads pass ``context=self``; samplers that
            look at the model, such as OHEM, use it).
    """

    def __init__(self, num: int, pos_fraction: float, neg_pos_ub: float = -1,
                 add_gt_as_proposals: bool = True, context: Any = None) -> None:
        self.num = num
        self.pos_fraction = pos_fraction
        self.neg_pos_ub = neg_pos_ub
        self.add_gt_as_proposals = add_gt_as_proposals
        self.context = context
        self.pos_sampler = self
        self.neg_sampler = self

    @abstractmethod
    def _sample_pos(self, assign_result: AssignResult, num_expected: int,
                    **kwargs: Any) -> Tensor:
        """Indices of at most ``num_expected`` positives."""

    @abstractmethod
    def _sample_neg(self, assign_result: AssignResult, num_expected: int,
                    **kwargs: Any) -> Tensor:
        """Indices of at most ``num_expected`` negatives."""

    def sample(self, assign_result: AssignResult, bboxes: Tensor, gt_bboxes: Tensor,
               gt_labels: Tensor | None = None, **kwargs: Any) -> SamplingResult:
        """Sample positives and negatives among ``bboxes`` (MMDetection v2's order of steps).

        With ``add_gt_as_proposals``, the ground truths are prepended to the candidates and to
        ``assign_result`` (which is modified in place). Then up to
        ``int(num * pos_fraction)`` positives are drawn, and negatives fill the rest of
        ``num`` (capped by ``neg_pos_ub``). Indices are deduplicated and sorted.

        Args:
            assign_result: the assignment of ``bboxes``.
            bboxes: ``Tensor[N, 4+]`` candidates (extra columns are dropped).
            gt_bboxes: ``Tensor[K, 4]`` ground truths.
            gt_labels: ``Tensor[K]``; required with ``add_gt_as_proposals``.
            **kwargs: passed to the subclass's ``_sample_pos`` / ``_sample_neg``.

        Returns:
            The :class:`SamplingResult`.
        """
        if len(bboxes.shape) < 2:
            bboxes = bboxes[None, :]
        bboxes = bboxes[:, :4]

        gt_flags = bboxes.new_zeros((bboxes.shape[0],), dtype=torch.uint8)
        if self.add_gt_as_proposals and len(gt_bboxes) > 0:
            if gt_labels is None:
                raise ValueError("gt_labels must be given when add_gt_as_proposals is True")
            bboxes = torch.cat([gt_bboxes, bboxes], dim=0)
            assign_result.add_gt_(gt_labels)
            gt_ones = bboxes.new_ones(gt_bboxes.shape[0], dtype=torch.uint8)
            gt_flags = torch.cat([gt_ones, gt_flags])

        num_expected_pos = int(self.num * self.pos_fraction)
        pos_inds = self.pos_sampler._sample_pos(assign_result, num_expected_pos, bboxes=bboxes,
                                                **kwargs)
        pos_inds = pos_inds.unique()
        num_sampled_pos = pos_inds.numel()
        num_expected_neg = self.num - num_sampled_pos
        if self.neg_pos_ub >= 0:
            neg_upper_bound = int(self.neg_pos_ub * max(1, num_sampled_pos))
            num_expected_neg = min(num_expected_neg, neg_upper_bound)
        neg_inds = self.neg_sampler._sample_neg(assign_result, num_expected_neg, bboxes=bboxes,
                                                **kwargs)
        neg_inds = neg_inds.unique()
        return SamplingResult(pos_inds, neg_inds, bboxes, gt_bboxes, assign_result, gt_flags)
