"""The base of logger hooks: when the log buffer is averaged and written (mmcv 1.x)."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import torch

from .hook import Hook

__all__ = ["LoggerHook"]


class LoggerHook(Hook):
    """Averages ``runner.log_buffer`` every ``interval`` iterations and calls :meth:`log`.

    Training logs are written after every ``interval``-th iteration (of the epoch with
    ``by_epoch``, else overall) and, when something is ready, after the epoch; validation
    logs after each validation epoch (the average over it). The last logger hook registered
    clears the averaged output after writing, so eval metrics an eval hook puts in
    ``log_buffer.output`` are written once.

    Args:
        interval: logging period in iterations.
        ignore_last: skip the leftover iterations at the end of an epoch (fewer than
            ``interval``).
        reset_flag: clear the output after logging (set on the last logger automatically).
        by_epoch: count ``interval`` within epochs (epoch-based runners).
    """

    def __init__(self, interval: int = 10, ignore_last: bool = True, reset_flag: bool = False,
                 by_epoch: bool = True) -> None:
        self.interval = interval
        self.ignore_last = ignore_last
        self.reset_flag = reset_flag
        self.by_epoch = by_epoch

    def log(self, runner: Any) -> Any:
        raise NotImplementedError

    @staticmethod
    def is_scalar(val: Any, include_np: bool = True, include_torch: bool = True) -> bool:
        """Whether ``val`` is a number (or a 0-d array / one-element tensor)."""
        if isinstance(val, numbers.Number):
            return True
        if include_np and isinstance(val, np.ndarray) and val.ndim == 0:
            return True
        return include_torch and isinstance(val, torch.Tensor) and val.numel() == 1

    def get_mode(self, runner: Any) -> str:
        """``'train'`` for training logs (they carry ``time``), ``'val'`` otherwise."""
        if runner.mode == "train":
            return "train" if "time" in runner.log_buffer.output else "val"
        if runner.mode == "val":
            return "val"
        raise ValueError(f"runner mode should be 'train' or 'val', but got {runner.mode}")

    def get_epoch(self, runner: Any) -> int:
        """The 1-based epoch being trained, or the last trained one during validation."""
        if runner.mode == "train":
            return runner.epoch + 1
        if runner.mode == "val":
            return runner.epoch
        raise ValueError(f"runner mode should be 'train' or 'val', but got {runner.mode}")

    def get_iter(self, runner: Any, inner_iter: bool = False) -> int:
        """The 1-based iteration (within the epoch when ``inner_iter`` and ``by_epoch``)."""
        if self.by_epoch and inner_iter:
            return runner.inner_iter + 1
        return runner.iter + 1

    def get_lr_tags(self, runner: Any) -> dict[str, float]:
        lrs = runner.current_lr()
        if isinstance(lrs, dict):
            return {f"learning_rate/{name}": value[0] for name, value in lrs.items()}
        return {"learning_rate": lrs[0]}

    def get_momentum_tags(self, runner: Any) -> dict[str, float]:
        momentums = runner.current_momentum()
        if isinstance(momentums, dict):
            return {f"momentum/{name}": value[0] for name, value in momentums.items()}
        return {"momentum": momentums[0]}

    def get_loggable_tags(self, runner: Any, allow_scalar: bool = True, allow_text: bool = False,
                          add_mode: bool = True,
                          tags_to_skip: tuple = ("time", "data_time")) -> dict[str, Any]:
        """``mode/name -> value`` of the log buffer output, plus learning rate and momentum."""
        tags = {}
        for var, val in runner.log_buffer.output.items():
            if var in tags_to_skip:
                continue
            if self.is_scalar(val) and not allow_scalar:
                continue
            if isinstance(val, str) and not allow_text:
                continue
            if add_mode:
                var = f"{self.get_mode(runner)}/{var}"
            tags[var] = val
        if runner.optimizer is not None:
            tags.update(self.get_lr_tags(runner))
            tags.update(self.get_momentum_tags(runner))
        return tags

    def before_run(self, runner: Any) -> None:
        for hook in runner.hooks[::-1]:
            if isinstance(hook, LoggerHook):
                hook.reset_flag = True
                break

    def before_epoch(self, runner: Any) -> None:
        runner.log_buffer.clear()

    def after_train_iter(self, runner: Any) -> None:
        if self.by_epoch and self.every_n_inner_iters(runner, self.interval):
            runner.log_buffer.average(self.interval)
        elif not self.by_epoch and self.every_n_iters(runner, self.interval):
            runner.log_buffer.average(self.interval)
        elif self.end_of_epoch(runner) and not self.ignore_last:
            runner.log_buffer.average(self.interval)
        if runner.log_buffer.ready:
            self.log(runner)
            if self.reset_flag:
                runner.log_buffer.clear_output()

    def after_train_epoch(self, runner: Any) -> None:
        if runner.log_buffer.ready:
            self.log(runner)
            if self.reset_flag:
                runner.log_buffer.clear_output()

    def after_val_epoch(self, runner: Any) -> None:
        runner.log_buffer.average()
        self.log(runner)
        if self.reset_flag:
            runner.log_buffer.clear_output()
