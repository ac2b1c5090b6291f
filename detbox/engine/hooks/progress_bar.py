"""A progress bar for training (beyond MMDetection v2): rate and ETA at a glance.

On a terminal it is a ``tqdm`` bar per training epoch (or one bar over the whole run for
iteration-based runners) showing the current loss, iterations per second and the remaining
time of the bar; log lines are routed around the bar. When stderr is not a terminal (a file,
a CI log) it logs a plain line every ``line_interval`` iterations instead.

``register_training_hooks`` adds one by default whenever ``log_config`` is set. To configure
or switch it off, list it yourself in the config::

    log_config = dict(interval=50, hooks=[dict(type='TextLoggerHook'),
                                          dict(type='ProgressBarHook', enabled=False)])
"""

from __future__ import annotations

import datetime
import logging
import sys
import time
from typing import Any

from ...registry import HOOKS
from ..dist import get_dist_info
from .hook import Hook

__all__ = ["ProgressBarHook"]


def _fmt_seconds(seconds: float) -> str:
    return str(datetime.timedelta(seconds=int(seconds)))


@HOOKS.register_module()
class ProgressBarHook(Hook):
    """Show training progress with rate and ETA (rank 0 only).

    Args:
        enabled: ``False`` turns the hook into a no-op.
        by_epoch: one bar per epoch (``True``) or one over ``max_iters`` (``False``);
            ``None`` picks by the runner (epoch-based when it has ``max_epochs``).
        line_interval: without a terminal, log a line every this many iterations; ``None``
            means a tenth of the bar's length.
        tty: force the bar (``True``) or the plain lines (``False``); ``None`` asks
            ``sys.stderr.isatty()``.
    """

    def __init__(self, enabled: bool = True, by_epoch: bool | None = None,
                 line_interval: int | None = None, tty: bool | None = None) -> None:
        self.enabled = enabled
        self.by_epoch = by_epoch
        self.line_interval = line_interval
        self.tty = tty
        self._bar: Any = None
        self._redirect: Any = None
        self._active = False
        self._total: int | None = None

    def before_run(self, runner: Any) -> None:
        self._active = self.enabled and get_dist_info()[0] == 0
        if self.by_epoch is None:
            self.by_epoch = runner.max_epochs is not None
        if self.tty is None:
            self.tty = bool(getattr(sys.stderr, "isatty", lambda: False)())
        if self._active and not self.by_epoch:
            self._start(runner, runner.max_iters, runner.iter, "train")

    def before_train_epoch(self, runner: Any) -> None:
        if self._active and self.by_epoch:
            self._start(runner, len(runner.data_loader), 0,
                        f"epoch {runner.epoch + 1}/{runner.max_epochs}")

    def after_train_iter(self, runner: Any) -> None:
        if not self._active or self._total is None:
            return
        done = runner.inner_iter + 1 if self.by_epoch else runner.iter + 1
        loss = runner.outputs.get("log_vars", {}).get("loss") if runner.outputs else None
        if self._bar is not None:
            self._bar.update(done - self._bar.n)
            if loss is not None:
                self._bar.set_postfix(loss=f"{loss:.4f}", refresh=False)
            return
        interval = self.line_interval or max(1, self._total // 10)
        if done % interval == 0 or done == self._total:
            self._log_line(runner, done, loss)

    def after_train_epoch(self, runner: Any) -> None:
        if self._active and self.by_epoch:
            self._stop()

    def after_run(self, runner: Any) -> None:
        if self._active:
            self._stop()

    # -------------------------------------------------------------------------------------
    def _start(self, runner: Any, total: int, initial: int, desc: str) -> None:
        self._stop()
        self._total = total
        self._initial = initial
        self._desc = desc
        self._t0 = time.time()
        self._logger = runner.logger
        if self.tty:
            from tqdm import tqdm
            from tqdm.contrib.logging import logging_redirect_tqdm

            self._bar = tqdm(total=total, initial=initial, desc=desc, dynamic_ncols=True,
                             leave=False, unit="it")
            self._redirect = logging_redirect_tqdm(loggers=[logging.root, runner.logger])
            self._redirect.__enter__()

    def _stop(self) -> None:
        if self._redirect is not None:
            self._redirect.__exit__(None, None, None)
            self._redirect = None
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        self._total = None

    def _log_line(self, runner: Any, done: int, loss: float | None) -> None:
        elapsed = time.time() - self._t0
        rate = (done - self._initial) / elapsed if elapsed > 0 else 0.0
        eta = (self._total - done) / rate if rate > 0 else 0.0
        loss_str = f", loss {loss:.4f}" if loss is not None else ""
        self._logger.info("%s [%d/%d] %3.0f%%, %.2f it/s, elapsed %s, eta %s%s", self._desc,
                          done, self._total, 100.0 * done / self._total, rate,
                          _fmt_seconds(elapsed), _fmt_seconds(eta), loss_str)
