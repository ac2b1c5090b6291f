"""Releasing cached CUDA memory (mmcv 1.x's ``EmptyCacheHook``)."""

from __future__ import annotations

from typing import Any

import torch

from ...registry import HOOKS
from .hook import Hook

__all__ = ["EmptyCacheHook"]


@HOOKS.register_module()
class EmptyCacheHook(Hook):
    """Call ``torch.cuda.empty_cache()`` at the chosen points (a no-op without CUDA).

    Args:
        before_epoch: before each epoch.
        after_epoch: after each epoch.
        after_iter: after each iteration.
    """

    def __init__(self, before_epoch: bool = False, after_epoch: bool = True,
                 after_iter: bool = False) -> None:
        self._before_epoch = before_epoch
        self._after_epoch = after_epoch
        self._after_iter = after_iter

    @staticmethod
    def _empty() -> None:
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    def after_iter(self, runner: Any) -> None:
        if self._after_iter:
            self._empty()

    def before_epoch(self, runner: Any) -> None:
        if self._before_epoch:
            self._empty()

    def after_epoch(self, runner: Any) -> None:
        if self._after_epoch:
            self._empty()
