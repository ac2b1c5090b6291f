"""Exponential moving averages of the weights (mmcv 1.x's ``EMAHook``; MMDetection v2's
``ExpMomentumEMAHook`` and ``LinearMomentumEMAHook``).

The averages live in the model as buffers named ``ema_<name with dots as underscores>``
(``ema_backbone_conv1_weight``), so they are saved in checkpoints under MMDetection's names.
After every training epoch the model's weights and the averages are swapped (evaluation and
the epoch's checkpoint see the averaged weights) and swapped back before the next epoch. On
resume the runner hands the checkpoint's ``ema_*`` entries to the hook
(``runner.resumed_extra_state``), which restores them once it has registered the buffers.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import torch

from ...registry import HOOKS
from ..parallel import unwrap_model
from .hook import Hook

__all__ = ["EMAHook", "BaseEMAHook", "ExpMomentumEMAHook", "LinearMomentumEMAHook",
           "ema_buffer_name"]


def ema_buffer_name(name: str) -> str:
    """``'backbone.conv1.weight'`` -> ``'ema_backbone_conv1_weight'``."""
    return f"ema_{name.replace('.', '_')}"


class _EMABuffers(Hook):
    """Registering, restoring and swapping the ``ema_*`` buffers."""

    checkpoint: str | None = None

    def _register(self, runner: Any, tensors: dict[str, torch.Tensor]) -> None:
        model = unwrap_model(runner.model)
        self.model_parameters = tensors
        self.param_ema_buffer = {}
        for name, value in tensors.items():
            buffer_name = ema_buffer_name(name)
            self.param_ema_buffer[name] = buffer_name
            model.register_buffer(buffer_name, value.data.clone())
        self.model_buffers = dict(model.named_buffers())
        restored = 0
        for buffer_name in self.param_ema_buffer.values():
            saved = runner.resumed_extra_state.get(buffer_name)
            if saved is not None:
                self.model_buffers[buffer_name].data.copy_(saved)
                restored += 1
        if restored:
            runner.logger.info("restored %d EMA buffers from the resumed checkpoint", restored)
        if self.checkpoint is not None:
            runner.resume(self.checkpoint)

    def _swap_ema_parameters(self) -> None:
        for name, value in self.model_parameters.items():
            ema_buffer = self.model_buffers[self.param_ema_buffer[name]]
            temp = value.data.clone()
            value.data.copy_(ema_buffer.data)
            ema_buffer.data.copy_(temp)

    def after_train_epoch(self, runner: Any) -> None:
        self._swap_ema_parameters()

    def before_train_epoch(self, runner: Any) -> None:
        self._swap_ema_parameters()


@HOOKS.register_module()
class EMAHook(_EMABuffers):
    """mmcv's EMA of the parameters: ``ema = (1 - m) * ema + m * param`` every ``interval``
    iterations, with ``m = min(momentum ** interval, (1 + iter) / (warm_up + iter))``.

    Args:
        momentum: the update weight of the current parameters, in (0, 1).
        interval: update period in iterations.
        warm_up: iterations of the smaller early momentum.
        resume_from: a checkpoint to resume from once the buffers exist.
    """

    def __init__(self, momentum: float = 0.0002, interval: int = 1, warm_up: int = 100,
                 resume_from: str | None = None) -> None:
        if not isinstance(interval, int) or interval <= 0:
            raise ValueError(f"interval must be a positive int, got {interval!r}")
        if not 0 < momentum < 1:
            raise ValueError(f"momentum must be in (0, 1), got {momentum}")
        self.warm_up = warm_up
        self.interval = interval
        self.momentum = momentum ** interval
        self.checkpoint = resume_from

    def before_run(self, runner: Any) -> None:
        model = unwrap_model(runner.model)
        self._register(runner, dict(model.named_parameters(recurse=True)))

    def after_train_iter(self, runner: Any) -> None:
        curr_step = runner.iter
        momentum = min(self.momentum, (1 + curr_step) / (self.warm_up + curr_step))
        if curr_step % self.interval != 0:
            return
        for name, parameter in self.model_parameters.items():
            buffer = self.model_buffers[self.param_ema_buffer[name]]
            buffer.mul_(1 - momentum).add_(parameter.data, alpha=momentum)


class BaseEMAHook(_EMABuffers):
    """MMDetection v2's EMA of the parameters and buffers: ``ema = (1 - m) * ema + m * x``
    after every ``interval``-th iteration (``(iter + 1) % interval == 0``), ``m`` from
    ``momentum_fun(iter)`` or the constant ``momentum``.

    Args:
        momentum: the (final) update weight of the current values, in (0, 1).
        interval: update period in iterations.
        skip_buffers: average only parameters (not BN statistics).
        resume_from: a checkpoint to resume from once the buffers exist.
        momentum_fun: ``iter -> momentum`` for the early iterations.
    """

    def __init__(self, momentum: float = 0.0002, interval: int = 1, skip_buffers: bool = False,
                 resume_from: str | None = None,
                 momentum_fun: Callable[[int], float] | None = None) -> None:
        if not 0 < momentum < 1:
            raise ValueError(f"momentum must be in (0, 1), got {momentum}")
        self.momentum = momentum
        self.skip_buffers = skip_buffers
        self.interval = interval
        self.checkpoint = resume_from
        self.momentum_fun = momentum_fun

    def before_run(self, runner: Any) -> None:
        model = unwrap_model(runner.model)
        tensors = dict(model.named_parameters()) if self.skip_buffers else model.state_dict()
        self._register(runner, tensors)

    def get_momentum(self, runner: Any) -> float:
        return self.momentum_fun(runner.iter) if self.momentum_fun else self.momentum

    def after_train_iter(self, runner: Any) -> None:
        if (runner.iter + 1) % self.interval != 0:
            return
        momentum = self.get_momentum(runner)
        for name, parameter in self.model_parameters.items():
            if parameter.dtype.is_floating_point:
                buffer = self.model_buffers[self.param_ema_buffer[name]]
                buffer.mul_(1 - momentum).add_(parameter.data, alpha=momentum)


@HOOKS.register_module()
class ExpMomentumEMAHook(BaseEMAHook):
    """EMA whose momentum decays from 1 to ``momentum``:
    ``m(iter) = (1 - momentum) * exp(-(1 + iter) / total_iter) + momentum`` (YOLOX).

    Args:
        total_iter: the decay's time constant in iterations.
        gamma: MMDetection 3's name for ``total_iter`` (used when given).
        **kwargs: :class:`BaseEMAHook` arguments (``momentum``, ``interval``,
            ``skip_buffers``, ``resume_from``).
    """

    def __init__(self, total_iter: int = 2000, gamma: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.total_iter = gamma if gamma is not None else total_iter
        self.momentum_fun = self._exp_momentum

    def _exp_momentum(self, x: int) -> float:
        return (1 - self.momentum) * math.exp(-(1 + x) / self.total_iter) + self.momentum


@HOOKS.register_module()
class LinearMomentumEMAHook(BaseEMAHook):
    """EMA with ``m(iter) = min(momentum ** interval, (1 + iter) / (warm_up + iter))``."""

    def __init__(self, warm_up: int = 100, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.warm_up = warm_up
        self.momentum_fun = self._linear_momentum

    def _linear_momentum(self, x: int) -> float:
        return min(self.momentum ** self.interval, (1 + x) / (self.warm_up + x))
