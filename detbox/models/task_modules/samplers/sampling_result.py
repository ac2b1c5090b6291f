"""The boxes a sampler picked for training, with their targets.

``pos_inds`` / ``neg_inds`` index the sampler's candidate list, which (with
``add_gt_as_proposals``) starts with the ground-truth boxes themselves.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ..assigners.assign_result import AssignResult

__all__ = ["SamplingResult"]


class SamplingResult:
    """Positive and negative samples of one image.

    Attributes:
        pos_inds, neg_inds: ``Tensor[P]`` / ``Tensor[Q]`` indices into the candidates.
        pos_bboxes, neg_bboxes: ``Tensor[P, 4]`` / ``Tensor[Q, 4]`` the sampled candidates.
        pos_is_gt: ``Tensor[P]`` uint8, 1 where the positive is a ground-truth box itself.
        num_gts: number of ground-truth boxes.
        pos_assigned_gt_inds: ``Tensor[P]`` 0-based ground truth of each positive.
        pos_gt_bboxes: ``Tensor[P, 4]`` that ground truth's box.
        pos_gt_labels: ``Tensor[P]`` its label, or ``None`` without labels.

    Args:
        pos_inds: sampled positive indices.
        neg_inds: sampled negative indices.
        bboxes: ``Tensor[M, 4]`` the candidates.
        gt_bboxes: ``Tensor[K, 4]`` the ground truths.
        assign_result: the assignment of the candidates.
        gt_flags: ``Tensor[M]`` uint8, 1 for candidates that are ground-truth boxes.
    """

    def __init__(self, pos_inds: Tensor, neg_inds: Tensor, bboxes: Tensor, gt_bboxes: Tensor,
                 assign_result: AssignResult, gt_flags: Tensor) -> None:
        self.pos_inds = pos_inds
        self.neg_inds = neg_inds
        self.pos_bboxes = bboxes[pos_inds]
        self.neg_bboxes = bboxes[neg_inds]
        self.pos_is_gt = gt_flags[pos_inds]
        self.num_gts = gt_bboxes.shape[0]
        self.pos_assigned_gt_inds = assign_result.gt_inds[pos_inds] - 1

        if gt_bboxes.numel() == 0:
            if self.pos_assigned_gt_inds.numel() != 0:
                raise AssertionError("SamplingResult: positives sampled but there is no "
                                     "ground truth")
            self.pos_gt_bboxes = torch.empty_like(gt_bboxes).view(-1, 4)
        else:
            if len(gt_bboxes.shape) < 2:
                gt_bboxes = gt_bboxes.view(-1, 4)
            self.pos_gt_bboxes = gt_bboxes[self.pos_assigned_gt_inds.long(), :]

        if assign_result.labels is not None:
            self.pos_gt_labels = assign_result.labels[pos_inds]
        else:
            self.pos_gt_labels = None

    @property
    def bboxes(self) -> Tensor:
        """``Tensor[P + Q, 4]``: positives, then negatives."""
        return torch.cat([self.pos_bboxes, self.neg_bboxes])

    def to(self, device: torch.device | str) -> SamplingResult:
        """Move every tensor attribute to ``device`` (in place); returns ``self``."""
        for key, value in self.__dict__.items():
            if isinstance(value, torch.Tensor):
                self.__dict__[key] = value.to(device)
        return self

    @property
    def info(self) -> dict[str, Any]:
        """The main fields by name."""
        return {
            "pos_inds": self.pos_inds,
            "neg_inds": self.neg_inds,
            "pos_bboxes": self.pos_bboxes,
            "neg_bboxes": self.neg_bboxes,
            "pos_is_gt": self.pos_is_gt,
            "num_gts": self.num_gts,
            "pos_assigned_gt_inds": self.pos_assigned_gt_inds,
        }

    def __repr__(self) -> str:
        data = self.info.copy()
        data["pos_bboxes"] = data.pop("pos_bboxes").shape
        data["neg_bboxes"] = data.pop("neg_bboxes").shape
        body = ",\n    ".join(f"'{k}': {v!r}" for k, v in sorted(data.items()))
        return f"<{self.__class__.__name__}({{\n    {body}\n}})>"
