"""Interface of box coders: ``encode(bboxes, gt_bboxes)`` and ``decode(bboxes, pred_bboxes)``."""

from __future__ import annotations

from abc import ABCMeta, abstractmethod
from typing import Any

from torch import Tensor

__all__ = ["BaseBBoxCoder"]


class BaseBBoxCoder(metaclass=ABCMeta):
    """Turns boxes into regression targets relative to base boxes (anchors, proposals) and back.

    Subclasses implement :meth:`encode` and :meth:`decode`; heads only call these two.
    """

    @abstractmethod
    def encode(self, bboxes: Tensor, gt_bboxes: Tensor) -> Tensor:
        """Regression targets that turn ``bboxes`` into ``gt_bboxes``."""

    @abstractmethod
    def decode(self, bboxes: Tensor, pred_bboxes: Tensor, **kwargs: Any) -> Tensor:
        """Boxes given base ``bboxes`` and predicted regressions ``pred_bboxes``."""
