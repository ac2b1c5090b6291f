"""TensorBoard event files of the training logs (mmcv 1.x's ``TensorboardLoggerHook``)."""

from __future__ import annotations

import os
from typing import Any

from ...registry import HOOKS
from ..dist import master_only
from .logger_base import LoggerHook

__all__ = ["TensorboardLoggerHook"]


@HOOKS.register_module()
class TensorboardLoggerHook(LoggerHook):
    """Write ``train/<loss>``, ``val/<metric>``, ``learning_rate`` and ``momentum`` scalars.

    Scalars are written at the global iteration (1-based) through
    ``torch.utils.tensorboard.SummaryWriter``; text values (``log_buffer.output`` strings) as
    text. Only rank 0 writes.

    Args:
        log_dir: event file folder; ``{work_dir}/tf_logs`` by default.
        interval: see :class:`LoggerHook`.
        ignore_last: see :class:`LoggerHook`.
        reset_flag: see :class:`LoggerHook`.
        by_epoch: see :class:`LoggerHook`.
    """

    def __init__(self, log_dir: str | None = None, interval: int = 10, ignore_last: bool = True,
                 reset_flag: bool = False, by_epoch: bool = True) -> None:
        super().__init__(interval, ignore_last, reset_flag, by_epoch)
        self.log_dir = log_dir
        self.writer: Any = None

    @master_only
    def before_run(self, runner: Any) -> None:
        super().before_run(runner)
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as err:  # pragma: no cover - tensorboard is a dependency
            raise ImportError("TensorboardLoggerHook needs the tensorboard package: "
                              "pip install tensorboard") from err
        if self.log_dir is None:
            if runner.work_dir is None:
                raise ValueError("TensorboardLoggerHook needs log_dir or runner.work_dir")
            self.log_dir = os.path.join(runner.work_dir, "tf_logs")
        self.writer = SummaryWriter(self.log_dir)

    @master_only
    def log(self, runner: Any) -> None:
        step = self.get_iter(runner)
        for tag, val in self.get_loggable_tags(runner, allow_text=True).items():
            if isinstance(val, str):
                self.writer.add_text(tag, val, step)
            else:
                self.writer.add_scalar(tag, val, step)

    @master_only
    def after_run(self, runner: Any) -> None:
        if self.writer is not None:
            self.writer.close()
