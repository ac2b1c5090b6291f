"""Telling the model the current epoch (MMDetection v2's ``SetEpochInfoHook``, used by TOOD)."""

from __future__ import annotations

from typing import Any

from ...registry import HOOKS
from ..parallel import unwrap_model
from .hook import Hook

__all__ = ["SetEpochInfoHook"]


@HOOKS.register_module()
class SetEpochInfoHook(Hook):
    """Call ``model.set_epoch(runner.epoch)`` before each training epoch."""

    def before_train_epoch(self, runner: Any) -> None:
        unwrap_model(runner.model).set_epoch(runner.epoch)
