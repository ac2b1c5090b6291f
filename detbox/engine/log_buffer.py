"""The runner's buffer of logged scalars, averaged over the last n updates (mmcv's LogBuffer).

>>> buf = LogBuffer()
>>> buf.update({'loss': 1.0}, count=2)
>>> buf.update({'loss': 4.0}, count=1)
>>> buf.average()
>>> float(buf.output['loss']), buf.ready
(2.0, True)
>>> buf.average(1)
>>> float(buf.output['loss'])
4.0
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np

__all__ = ["LogBuffer"]


class LogBuffer:
    """History of named scalars with their sample counts, and their latest averages.

    Attributes:
        val_history: name -> list of values, one per :meth:`update`.
        n_history: name -> list of sample counts (the averaging weights).
        output: name -> averaged value, filled by :meth:`average` (and by eval hooks, which
            put their metrics here directly).
        ready: whether ``output`` holds something for the logger hooks to write.
    """

    def __init__(self) -> None:
        self.val_history: OrderedDict[str, list] = OrderedDict()
        self.n_history: OrderedDict[str, list] = OrderedDict()
        self.output: OrderedDict[str, Any] = OrderedDict()
        self.ready = False

    def clear(self) -> None:
        """Forget the history and the output."""
        self.val_history.clear()
        self.n_history.clear()
        self.clear_output()

    def clear_output(self) -> None:
        """Forget the averaged output (the history stays)."""
        self.output.clear()
        self.ready = False

    def update(self, vars: dict, count: int = 1) -> None:  # noqa: A002 - mmcv's name
        """Append each ``name: value`` of ``vars`` with weight ``count``."""
        if not isinstance(vars, dict):
            raise TypeError(f"LogBuffer.update expects a dict, got {type(vars).__name__}")
        for key, value in vars.items():
            self.val_history.setdefault(key, []).append(value)
            self.n_history.setdefault(key, []).append(count)

    def average(self, n: int = 0) -> None:
        """Put the count-weighted mean of the last ``n`` values (all when 0) in ``output``."""
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        for key in self.val_history:
            values = np.array(self.val_history[key][-n:])
            nums = np.array(self.n_history[key][-n:])
            self.output[key] = np.sum(values * nums) / np.sum(nums)
        self.ready = True
