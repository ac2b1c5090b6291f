"""Stopping training when a validation metric stops improving (beyond MMDetection v2)."""

from __future__ import annotations

import math
from typing import Any

from ...registry import HOOKS
from .hook import Hook

__all__ = ["EarlyStoppingHook"]


@HOOKS.register_module()
class EarlyStoppingHook(Hook):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` evaluations.

    Where the metric comes from: after each training epoch (iteration, for iteration-based
    runners) the hook reads ``runner.log_buffer.output[monitor]``, which is where the eval hook
    puts its metrics (``bbox_mAP``, ``bbox_mAP_50``, ``AR@100``...). An epoch without that key
    (no evaluation this time) is not counted. The hook must therefore run after the eval hook
    (registered at LOW = 70) and before the logger hooks (VERY_LOW = 90), which clear that
    output: register it with ``priority=80`` (``custom_hooks = [dict(type='EarlyStoppingHook',
    monitor='bbox_mAP', priority=80)]``); ``before_run`` raises if it would run before an
    eval hook.

    Its state (best value, its epoch, evaluations without improvement) is kept in
    ``runner.meta['hook_msgs']['early_stopping']``, saved in checkpoints and restored on
    resume. Stopping ends the run after the current epoch (``runner.request_stop``).

    Args:
        monitor: the metric name.
        rule: ``'greater'`` (higher is better) or ``'less'``.
        patience: evaluations without improvement before stopping.
        min_delta: smallest change that counts as an improvement.
        by_epoch: check after training epochs (``None``: epoch-based runners) or iterations.
    """

    def __init__(self, monitor: str = "bbox_mAP", rule: str = "greater", patience: int = 3,
                 min_delta: float = 0.0, by_epoch: bool | None = None) -> None:
        if rule not in ("greater", "less"):
            raise ValueError(f"rule must be 'greater' or 'less', got {rule!r}")
        if patience < 1:
            raise ValueError(f"patience must be >= 1, got {patience}")
        if min_delta < 0:
            raise ValueError(f"min_delta must be >= 0, got {min_delta}")
        self.monitor = monitor
        self.rule = rule
        self.patience = patience
        self.min_delta = min_delta
        self.by_epoch = by_epoch
        self.best: float | None = None
        self.best_at: int | None = None
        self.wait = 0

    def before_run(self, runner: Any) -> None:
        if self.by_epoch is None:
            self.by_epoch = runner.max_epochs is not None
        mine = getattr(self, "priority", None)
        for hook in runner.hooks:
            if hook is not self and type(hook).__name__.endswith("EvalHook") \
                    and mine is not None and mine <= hook.priority:
                raise ValueError(f"EarlyStoppingHook (priority {mine}) would run before "
                                 f"{type(hook).__name__} (priority {hook.priority}) and never "
                                 f"see its metrics; register it with priority=80")
        state = runner.meta.get("hook_msgs", {}).get("early_stopping")
        if state and state.get("monitor") == self.monitor:
            self.best = state.get("best")
            self.best_at = state.get("best_at")
            self.wait = state.get("wait", 0)

    def _improved(self, value: float) -> bool:
        if self.best is None:
            return True
        if self.rule == "greater":
            return value > self.best + self.min_delta
        return value < self.best - self.min_delta

    def _check(self, runner: Any, progress: int, unit: str) -> None:
        if self.monitor not in runner.log_buffer.output:
            return
        value = float(runner.log_buffer.output[self.monitor])
        if math.isnan(value):
            value = -math.inf if self.rule == "greater" else math.inf
        if self._improved(value):
            self.best, self.best_at, self.wait = value, progress, 0
        else:
            self.wait += 1
        runner.meta.setdefault("hook_msgs", {})["early_stopping"] = dict(
            monitor=self.monitor, best=self.best, best_at=self.best_at, wait=self.wait)
        if self.wait >= self.patience:
            runner.request_stop(
                f"{self.monitor} has not improved for {self.wait} evaluations (best "
                f"{self.best:.4f} at {unit} {self.best_at}, now {value:.4f} at {unit} "
                f"{progress})")

    def after_train_epoch(self, runner: Any) -> None:
        if self.by_epoch:
            self._check(runner, runner.epoch + 1, "epoch")

    def after_train_iter(self, runner: Any) -> None:
        if not self.by_epoch:
            self._check(runner, runner.iter + 1, "iter")
