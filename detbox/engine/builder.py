"""Building a runner from a config's ``runner`` section."""

from __future__ import annotations

import copy
from typing import Any

from ..registry import RUNNERS

__all__ = ["build_runner"]


def build_runner(cfg: dict, default_args: dict | None = None) -> Any:
    """Build ``cfg`` (``dict(type='EpochBasedRunner', max_epochs=12)``) from RUNNERS.

    Args:
        cfg: the ``runner`` section.
        default_args: ``model``, ``optimizer``, ``work_dir``, ``logger``, ``meta``...

    Example:
        >>> import torch
        >>> class Toy(torch.nn.Linear):
        ...     def train_step(self, data, optimizer):
        ...         return dict(loss=self(data).sum(), log_vars={}, num_samples=len(data))
        >>> runner = build_runner(dict(type='EpochBasedRunner', max_epochs=2),
        ...                       dict(model=Toy(2, 1)))
        >>> type(runner).__name__, runner.max_epochs
        ('EpochBasedRunner', 2)
    """
    cfg = copy.deepcopy(dict(cfg))
    constructor = cfg.pop("constructor", "DefaultRunnerConstructor")
    if constructor != "DefaultRunnerConstructor":
        raise ValueError(f"runner.constructor '{constructor}' is not supported; only "
                         f"'DefaultRunnerConstructor' (the default) is")
    return RUNNERS.build(cfg, default_args)
