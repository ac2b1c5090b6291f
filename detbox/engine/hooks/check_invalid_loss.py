"""Stopping training on a NaN or infinite loss (MMDetection v2's ``CheckInvalidLossHook``)."""

from __future__ import annotations

import math
from typing import Any

import torch

from ...registry import HOOKS
from .hook import Hook

__all__ = ["CheckInvalidLossHook", "InvalidLossError"]


class InvalidLossError(FloatingPointError):
    """The loss (or one of its parts) became NaN or infinite."""


def _is_finite(value: Any) -> bool:
    if isinstance(value, torch.Tensor):
        return bool(torch.isfinite(value).all())
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return True  # not a number (a string in log_vars): nothing to check


def _as_float(value: Any) -> float:
    if isinstance(value, torch.Tensor):
        value = value.detach().float()
        bad = value[~torch.isfinite(value)]
        return float(bad.flatten()[0]) if bad.numel() else float(value.sum())
    return float(value)


@HOOKS.register_module()
class CheckInvalidLossHook(Hook):
    """Every ``interval`` iterations, check the loss and each logged loss term.

    Raises :class:`InvalidLossError` naming the iteration, the epoch and every non-finite term
    (``loss=nan, loss_bbox=inf``), which ends the run.

    Args:
        interval: checking period in iterations.
    """

    def __init__(self, interval: int = 50) -> None:
        self.interval = interval

    def after_train_iter(self, runner: Any) -> None:
        if not self.every_n_iters(runner, self.interval):
            return
        outputs = runner.outputs
        bad = {}
        if "loss" in outputs and not _is_finite(outputs["loss"]):
            bad["loss"] = _as_float(outputs["loss"])
        for name, value in outputs.get("log_vars", {}).items():
            if name not in bad and not _is_finite(value):
                bad[name] = _as_float(value)
        if bad:
            where = f"iteration {runner.iter + 1}"
            if runner.max_epochs is not None:
                where += f" (epoch {runner.epoch + 1}, batch {runner.inner_iter + 1})"
            terms = ", ".join(f"{k}={v}" for k, v in bad.items())
            runner.logger.error("loss became infinite or NaN at %s: %s", where, terms)
            raise InvalidLossError(f"loss became infinite or NaN at {where}: {terms}")
