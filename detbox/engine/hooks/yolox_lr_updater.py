"""YOLOX's learning-rate schedule (MMDetection v2's ``YOLOXLrUpdaterHook``)."""

from __future__ import annotations

from typing import Any

from ...registry import HOOKS
from .lr_updater import CosineAnnealingLrUpdaterHook, _target_lr, annealing_cos

__all__ = ["YOLOXLrUpdaterHook"]


@HOOKS.register_module()
class YOLOXLrUpdaterHook(CosineAnnealingLrUpdaterHook):
    """Cosine annealing with a quadratic warmup and a flat tail.

    - warmup (iteration ``i < warmup_iters``): ``lr = base_lr * warmup_ratio *
      ((i + 1) / warmup_iters) ** 2`` (computed from the base lr, not the regular lr);
    - the last ``num_last_epochs`` epochs: the target lr (``min_lr`` or
      ``base_lr * min_lr_ratio``);
    - between: cosine from the base lr to the target over the remaining iterations.

    Args:
        num_last_epochs: epochs at the fixed target lr at the end.
        **kwargs: :class:`CosineAnnealingLrUpdaterHook` and warmup arguments (YOLOX configs use
            ``warmup='exp', by_epoch=False, warmup_by_epoch=True, warmup_ratio=1``).
    """

    def __init__(self, num_last_epochs: int, **kwargs: Any) -> None:
        self.num_last_epochs = num_last_epochs
        super().__init__(**kwargs)

    def get_warmup_lr(self, cur_iters: int) -> list | dict:
        def scale(lrs: list) -> list:
            k = self.warmup_ratio * pow((cur_iters + 1) / float(self.warmup_iters), 2)
            return [lr * k for lr in lrs]
        if isinstance(self.base_lr, dict):
            return {key: scale(lrs) for key, lrs in self.base_lr.items()}
        return scale(self.base_lr)

    def get_lr(self, runner: Any, base_lr: float) -> float:
        last_iter = len(runner.data_loader) * self.num_last_epochs
        if self.by_epoch:
            progress, max_progress = runner.epoch, runner.max_epochs
        else:
            progress, max_progress = runner.iter, runner.max_iters
        progress += 1
        target_lr = _target_lr(self, base_lr)
        if progress >= max_progress - last_iter:
            return target_lr
        return annealing_cos(base_lr, target_lr, (progress - self.warmup_iters)
                             / (max_progress - self.warmup_iters - last_iter))
