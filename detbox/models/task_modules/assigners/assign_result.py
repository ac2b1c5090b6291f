"""The outcome of an assigner: for every candidate box, its ground truth (or none).

``gt_inds[i]`` is ``j + 1`` when box ``i`` is assigned to ground truth ``j`` (a positive),
``0`` for a negative (background) and ``-1`` for a box to ignore.

>>> result = AssignResult(2, torch.tensor([1, 0, -1]), torch.tensor([0.7, 0.1, 0.0]),
...                       labels=torch.tensor([3, -1, -1]))
>>> result.add_gt_(torch.tensor([3, 5]))
>>> result.gt_inds
tensor([ 1,  2,  1,  0, -1])
>>> result
<AssignResult(num_gts=2, gt_inds.shape=(5,), max_overlaps.shape=(5,), labels.shape=(5,))>
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

__all__ = ["AssignResult"]


class AssignResult:
    """Assignments between candidate boxes and ground-truth boxes.

    Attributes:
        num_gts: number of ground-truth boxes considered.
        gt_inds: ``Tensor[N]`` int64: 1-based index of the assigned ground truth, 0 for
            negatives, -1 for ignored boxes.
        max_overlaps: ``Tensor[N]`` IoU of each box with its best ground truth.
        labels: ``Tensor[N]`` int64 label of the assigned ground truth (-1 where none), or
            ``None`` when the assigner was given no labels.

    Args:
        num_gts: see above.
        gt_inds: see above.
        max_overlaps: see above.
        labels: see above.
    """

    def __init__(self, num_gts: int, gt_inds: Tensor, max_overlaps: Tensor,
                 labels: Tensor | None = None) -> None:
        self.num_gts = num_gts
        self.gt_inds = gt_inds
        self.max_overlaps = max_overlaps
        self.labels = labels
        self._extra_properties: dict[str, Any] = {}

    @property
    def num_preds(self) -> int:
        """Number of candidate boxes."""
        return len(self.gt_inds)

    def set_extra_property(self, key: str, value: Any) -> None:
        """Attach another per-assignment value (a key not already in :attr:`info`)."""
        if key in self.info:
            raise AssertionError(f"AssignResult already has the property {key!r}")
        self._extra_properties[key] = value

    def get_extra_property(self, key: str) -> Any:
        """A value set with :meth:`set_extra_property`, or ``None``."""
        return self._extra_properties.get(key, None)

    @property
    def info(self) -> dict[str, Any]:
        """Every field (and extra property) by name."""
        basic = {
            "num_gts": self.num_gts,
            "num_preds": self.num_preds,
            "gt_inds": self.gt_inds,
            "max_overlaps": self.max_overlaps,
            "labels": self.labels,
        }
        basic.update(self._extra_properties)
        return basic

    def add_gt_(self, gt_labels: Tensor) -> None:
        """Prepend the ground-truth boxes themselves as positives (in place).

        Ground truth ``j`` becomes candidate ``j`` with ``gt_inds = j + 1``, overlap 1 and
        label ``gt_labels[j]``; the former candidates follow.

        Args:
            gt_labels: ``Tensor[K]`` labels of the ground-truth boxes.
        """
        self_inds = torch.arange(1, len(gt_labels) + 1, dtype=torch.long,
                                 device=gt_labels.device)
        self.gt_inds = torch.cat([self_inds, self.gt_inds])
        self.max_overlaps = torch.cat(
            [self.max_overlaps.new_ones(len(gt_labels)), self.max_overlaps])
        if self.labels is not None:
            self.labels = torch.cat([gt_labels, self.labels])

    def __repr__(self) -> str:
        parts = [f"num_gts={self.num_gts!r}"]
        for name in ("gt_inds", "max_overlaps", "labels"):
            value = getattr(self, name)
            parts.append(f"{name}={value!r}" if value is None
                         else f"{name}.shape={tuple(value.shape)!r}")
        return f"<{self.__class__.__name__}({', '.join(parts)})>"
