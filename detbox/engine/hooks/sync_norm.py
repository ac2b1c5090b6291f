"""Averaging normalisation layers over processes (MMDetection v2's ``SyncNormHook``, YOLOX)."""

from __future__ import annotations

from typing import Any

from torch import nn

from ...registry import HOOKS
from ..dist import allreduce_params, get_dist_info
from ..parallel import unwrap_model
from .hook import Hook

__all__ = ["SyncNormHook"]


@HOOKS.register_module()
class SyncNormHook(Hook):
    """After every ``interval``-th training epoch, average the weights and statistics of all
    normalisation layers over processes (a no-op in single-process training).

    Args:
        num_last_epochs: from ``max_epochs - num_last_epochs`` on, sync after every epoch.
        interval: the period in epochs before that.
    """

    def __init__(self, num_last_epochs: int = 15, interval: int = 1) -> None:
        self.interval = interval
        self.num_last_epochs = num_last_epochs

    def before_train_epoch(self, runner: Any) -> None:
        if runner.epoch + 1 == runner.max_epochs - self.num_last_epochs:
            self.interval = 1

    def after_train_epoch(self, runner: Any) -> None:
        if (runner.epoch + 1) % self.interval != 0 or get_dist_info()[1] == 1:
            return
        states = [tensor for module in unwrap_model(runner.model).modules()
                  if isinstance(module, nn.modules.batchnorm._NormBase)
                  for tensor in module.state_dict().values()]
        allreduce_params(states)
