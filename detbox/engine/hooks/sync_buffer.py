"""Averaging model buffers over processes (mmcv 1.x's ``SyncBuffersHook``)."""

from __future__ import annotations

from typing import Any

from ...registry import HOOKS
from ..dist import allreduce_params
from .hook import Hook

__all__ = ["SyncBuffersHook"]


@HOOKS.register_module()
class SyncBuffersHook(Hook):
    """All-reduce (average) the model's buffers, such as BN running statistics, after each
    epoch.

    Args:
        distributed: do it (a no-op without a process group anyway).
    """

    def __init__(self, distributed: bool = True) -> None:
        self.distributed = distributed

    def after_epoch(self, runner: Any) -> None:
        if self.distributed:
            allreduce_params(runner.model.buffers())
