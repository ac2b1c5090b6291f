"""Timing of iterations: ``data_time`` (waiting for the batch) and ``time`` (whole iteration)."""

from __future__ import annotations

import time
from typing import Any

from ...registry import HOOKS
from .hook import Hook

__all__ = ["IterTimerHook"]


@HOOKS.register_module()
class IterTimerHook(Hook):
    """Put ``data_time`` and ``time`` (seconds) of every iteration in ``runner.log_buffer``."""

    def before_epoch(self, runner: Any) -> None:
        self.t = time.time()

    def before_iter(self, runner: Any) -> None:
        runner.log_buffer.update({"data_time": time.time() - self.t})

    def after_iter(self, runner: Any) -> None:
        runner.log_buffer.update({"time": time.time() - self.t})
        self.t = time.time()
