"""Interface of assigners: ``assign(bboxes, gt_bboxes, ...) -> AssignResult``."""

from __future__ import annotations

from abc import ABCMeta, abstractmethod

from torch import Tensor

from .assign_result import AssignResult

__all__ = ["BaseAssigner"]


class BaseAssigner(metaclass=ABCMeta):
    """Decides, for each candidate box, which ground-truth box (if any) it should learn from."""

    @abstractmethod
    def assign(self, bboxes: Tensor, gt_bboxes: Tensor, gt_bboxes_ignore: Tensor | None = None,
               gt_labels: Tensor | None = None) -> AssignResult:
        """Assign every box of ``bboxes`` to a ground truth, the background, or ignore."""
