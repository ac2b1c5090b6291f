"""Reshuffling distributed samplers every epoch (mmcv 1.x's ``DistSamplerSeedHook``)."""

from __future__ import annotations

from typing import Any

from ...registry import HOOKS
from .hook import Hook

__all__ = ["DistSamplerSeedHook"]


@HOOKS.register_module()
class DistSamplerSeedHook(Hook):
    """Call ``set_epoch(runner.epoch)`` on the loader's sampler (or its batch sampler's
    sampler) before each epoch, so every epoch has its own shuffle on every process.

    Only needed with epoch-based runners; ``IterLoader`` does this for iteration-based ones.
    """

    def before_epoch(self, runner: Any) -> None:
        loader = runner.data_loader
        sampler = getattr(loader, "sampler", None)
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(runner.epoch)
            return
        batch_sampler = getattr(loader, "batch_sampler", None)
        inner = getattr(batch_sampler, "sampler", None)
        if hasattr(inner, "set_epoch"):
            inner.set_epoch(runner.epoch)
