"""Momentum schedules as hooks (mmcv 1.x's ``MomentumUpdaterHook`` family).

``momentum_config = dict(policy='cyclic', ...)`` selects ``CyclicMomentumUpdaterHook`` (same
naming rule as the lr policies). Optimizers with ``betas`` (Adam) get ``beta1`` changed.
Warmup divides the regular momentum by the lr warmup factor (``'constant'``: by
``warmup_ratio``; ``'linear'``: by ``1 - (1 - iter / warmup_iters) * (1 - warmup_ratio)``;
``'exp'``: by ``warmup_ratio ** (1 - iter / warmup_iters)``).
"""

from __future__ import annotations

from typing import Any

from ...registry import HOOKS
from .hook import Hook
from .lr_cyclic import CyclicPhases
from .lr_updater import (
    _check_steps,
    _per_optimizer,
    _progress,
    anneal_function,
    annealing_cos,
    annealing_linear,
    format_param,
    step_exponent,
)

__all__ = ["MomentumUpdaterHook", "StepMomentumUpdaterHook", "CosineAnnealingMomentumUpdaterHook",
           "LinearAnnealingMomentumUpdaterHook", "CyclicMomentumUpdaterHook",
           "OneCycleMomentumUpdaterHook"]


def _set_group_momentum(group: dict, momentum: float) -> None:
    if "momentum" in group:
        group["momentum"] = momentum
    elif "betas" in group:
        group["betas"] = (momentum, group["betas"][1])


class MomentumUpdaterHook(Hook):
    """Base of the momentum schedules; subclasses define ``get_momentum``.

    Args:
        by_epoch: update once per epoch instead of every iteration.
        warmup: ``None``, ``'constant'``, ``'linear'`` or ``'exp'``.
        warmup_iters: warmup length in iterations.
        warmup_ratio: see the module docstring.
    """

    def __init__(self, by_epoch: bool = True, warmup: str | None = None, warmup_iters: int = 0,
                 warmup_ratio: float = 0.9) -> None:
        if warmup is not None:
            if warmup not in ("constant", "linear", "exp"):
                raise ValueError(f'"{warmup}" is not a supported type for warming up, valid '
                                 f'types are "constant", "linear" and "exp"')
            if not warmup_iters > 0:
                raise ValueError(f'"warmup_iters" must be a positive integer, got {warmup_iters}')
            if not 0 < warmup_ratio <= 1.0:
                raise ValueError(f'"warmup_momentum" must be in range (0,1], got {warmup_ratio}')
        self.by_epoch = by_epoch
        self.warmup = warmup
        self.warmup_iters = warmup_iters
        self.warmup_ratio = warmup_ratio
        self.base_momentum: list | dict = []
        self.regular_momentum: list | dict = []

    def _set_momentum(self, runner: Any, momentum_groups: list | dict) -> None:
        def apply(optim: Any, key: Any) -> None:
            values = momentum_groups if key is None else momentum_groups[key]
            for group, momentum in zip(optim.param_groups, values):
                _set_group_momentum(group, momentum)
        _per_optimizer(runner, apply)

    def get_momentum(self, runner: Any, base_momentum: Any) -> float:
        raise NotImplementedError

    def get_regular_momentum(self, runner: Any) -> list | dict:
        if isinstance(self.base_momentum, dict):
            return {k: [self.get_momentum(runner, m) for m in ms]
                    for k, ms in self.base_momentum.items()}
        return [self.get_momentum(runner, m) for m in self.base_momentum]

    def get_warmup_momentum(self, cur_iters: int) -> list | dict:
        def scale(moms: list) -> list:
            if self.warmup == "constant":
                return [m / self.warmup_ratio for m in moms]
            if self.warmup == "linear":
                k = (1 - cur_iters / self.warmup_iters) * (1 - self.warmup_ratio)
                return [m / (1 - k) for m in moms]
            k = self.warmup_ratio ** (1 - cur_iters / self.warmup_iters)
            return [m / k for m in moms]
        if isinstance(self.regular_momentum, dict):
            return {k: scale(ms) for k, ms in self.regular_momentum.items()}
        return scale(self.regular_momentum)

    def before_run(self, runner: Any) -> None:
        def initial(optim: Any, key: Any) -> list:
            for group in optim.param_groups:
                group.setdefault("initial_momentum",
                                 group["momentum"] if "momentum" in group else group["betas"][0])
            return [group["initial_momentum"] for group in optim.param_groups]
        self.base_momentum = _per_optimizer(runner, initial)

    def before_train_epoch(self, runner: Any) -> None:
        if not self.by_epoch:
            return
        self.regular_momentum = self.get_regular_momentum(runner)
        self._set_momentum(runner, self.regular_momentum)

    def before_train_iter(self, runner: Any) -> None:
        cur_iter = runner.iter
        if not self.by_epoch:
            self.regular_momentum = self.get_regular_momentum(runner)
            if self.warmup is None or cur_iter >= self.warmup_iters:
                self._set_momentum(runner, self.regular_momentum)
            else:
                self._set_momentum(runner, self.get_warmup_momentum(cur_iter))
        else:
            if self.warmup is None or cur_iter > self.warmup_iters:
                return
            if cur_iter == self.warmup_iters:
                self._set_momentum(runner, self.regular_momentum)
            else:
                self._set_momentum(runner, self.get_warmup_momentum(cur_iter))


def _check_min_momentum(min_momentum: float | None, min_momentum_ratio: float | None) -> None:
    if (min_momentum is None) == (min_momentum_ratio is None):
        raise ValueError("give exactly one of min_momentum and min_momentum_ratio")


@HOOKS.register_module()
class StepMomentumUpdaterHook(MomentumUpdaterHook):
    """``momentum = base * gamma ** (steps passed)``, at least ``min_momentum``."""

    def __init__(self, step: int | list[int], gamma: float = 0.5,
                 min_momentum: float | None = None, **kwargs: Any) -> None:
        _check_steps(step)
        self.step = step
        self.gamma = gamma
        self.min_momentum = min_momentum
        super().__init__(**kwargs)

    def get_momentum(self, runner: Any, base_momentum: float) -> float:
        progress = runner.epoch if self.by_epoch else runner.iter
        momentum = base_momentum * self.gamma ** step_exponent(self.step, progress)
        return max(momentum, self.min_momentum) if self.min_momentum is not None else momentum


@HOOKS.register_module()
class CosineAnnealingMomentumUpdaterHook(MomentumUpdaterHook):
    """Cosine from the base momentum to ``min_momentum`` (or base x ``min_momentum_ratio``)."""

    def __init__(self, min_momentum: float | None = None,
                 min_momentum_ratio: float | None = None, **kwargs: Any) -> None:
        _check_min_momentum(min_momentum, min_momentum_ratio)
        self.min_momentum = min_momentum
        self.min_momentum_ratio = min_momentum_ratio
        super().__init__(**kwargs)

    def _target(self, base_momentum: float) -> float:
        if self.min_momentum_ratio is not None:
            return base_momentum * self.min_momentum_ratio
        return self.min_momentum  # type: ignore[return-value]

    def get_momentum(self, runner: Any, base_momentum: float) -> float:
        progress, max_progress = _progress(self, runner)
        return annealing_cos(base_momentum, self._target(base_momentum), progress / max_progress)


@HOOKS.register_module()
class LinearAnnealingMomentumUpdaterHook(CosineAnnealingMomentumUpdaterHook):
    """Straight line from the base momentum to the target momentum."""

    def get_momentum(self, runner: Any, base_momentum: float) -> float:
        progress, max_progress = _progress(self, runner)
        return annealing_linear(base_momentum, self._target(base_momentum),
                                progress / max_progress)


@HOOKS.register_module()
class CyclicMomentumUpdaterHook(MomentumUpdaterHook):
    """Momentum cycled opposite to :class:`CyclicLrUpdaterHook` (same arguments; the default
    ``target_ratio`` goes from 1 down to 0.85 / 0.95 and back to 1)."""

    def __init__(self, by_epoch: bool = False, target_ratio: float | tuple = (0.85 / 0.95, 1.0),
                 cyclic_times: int = 1, step_ratio_up: float = 0.4, anneal_strategy: str = "cos",
                 gamma: float = 1.0, **kwargs: Any) -> None:
        self.cycle = CyclicPhases(target_ratio, cyclic_times, step_ratio_up, anneal_strategy,
                                  gamma, by_epoch)
        self.target_ratio = self.cycle.target_ratio
        super().__init__(by_epoch, **kwargs)

    def before_run(self, runner: Any) -> None:
        super().before_run(runner)
        self.cycle.start(runner.max_iters)

    def get_momentum(self, runner: Any, base_momentum: float) -> float:
        return self.cycle.value(base_momentum, runner.iter, "momentum")


@HOOKS.register_module()
class OneCycleMomentumUpdaterHook(MomentumUpdaterHook):
    """Momentum of the 1cycle policy: ``max_momentum`` down to ``base_momentum`` while the lr
    rises, then back up (pairs with :class:`OneCycleLrUpdaterHook`).

    Args:
        base_momentum: the low momentum (number, per-group list, or dict over optimizers).
        max_momentum: the high momentum.
        pct_start: fraction of the run going down.
        anneal_strategy: ``'cos'`` or ``'linear'``.
        three_phase: down, up, then flat at ``max_momentum``.
    """

    def __init__(self, base_momentum: float | list | dict = 0.85,
                 max_momentum: float | list | dict = 0.95, pct_start: float = 0.3,
                 anneal_strategy: str = "cos", three_phase: bool = False,
                 **kwargs: Any) -> None:
        if kwargs.setdefault("by_epoch", False):
            raise ValueError('currently only support "by_epoch" = False')
        for name, value in (("base_momentum", base_momentum), ("max_momentum", max_momentum)):
            if not isinstance(value, (float, list, dict)):
                raise ValueError(f"{name} must be the type among of float, list or dict.")
        if not isinstance(pct_start, float) or not 0 <= pct_start <= 1:
            raise ValueError(f"Expected float between 0 and 1 pct_start, but got {pct_start}")
        self._base_momentum = base_momentum
        self._max_momentum = max_momentum
        self.pct_start = pct_start
        self.anneal_func = anneal_function(anneal_strategy)
        self.three_phase = three_phase
        self.momentum_phases: list[dict] = []
        super().__init__(**kwargs)

    def before_run(self, runner: Any) -> None:
        def setup(optim: Any, key: Any) -> None:
            if "momentum" not in optim.defaults and "betas" not in optim.defaults:
                raise ValueError("optimizer must support momentum with option enabled")
            self.use_beta1 = "betas" in optim.defaults
            name = key if key is not None else type(optim).__name__
            lows = format_param(name, optim, self._base_momentum)
            highs = format_param(name, optim, self._max_momentum)
            for group, low, high in zip(optim.param_groups, lows, highs):
                if self.use_beta1:
                    group["betas"] = (high, group["betas"][1])
                else:
                    group["momentum"] = high
                group["base_momentum"] = low
                group["max_momentum"] = high
        _per_optimizer(runner, setup)
        max_iters = runner.max_iters
        down_end = float(self.pct_start * max_iters) - 1
        down = dict(end_iter=down_end, start_momentum="max_momentum", end_momentum="base_momentum")
        if self.three_phase:
            self.momentum_phases = [
                down,
                dict(end_iter=float(2 * self.pct_start * max_iters) - 2,
                     start_momentum="base_momentum", end_momentum="max_momentum"),
                dict(end_iter=max_iters - 1, start_momentum="max_momentum",
                     end_momentum="max_momentum"),
            ]
        else:
            self.momentum_phases = [
                down,
                dict(end_iter=max_iters - 1, start_momentum="base_momentum",
                     end_momentum="max_momentum"),
            ]

    def get_momentum(self, runner: Any, param_group: dict) -> float:
        curr_iter = runner.iter
        start_iter = 0
        momentum = 0.0
        for i, phase in enumerate(self.momentum_phases):
            end_iter = phase["end_iter"]
            if curr_iter <= end_iter or i == len(self.momentum_phases) - 1:
                pct = (curr_iter - start_iter) / (end_iter - start_iter)
                momentum = self.anneal_func(param_group[phase["start_momentum"]],
                                            param_group[phase["end_momentum"]], pct)
                break
            start_iter = end_iter
        return momentum

    def get_regular_momentum(self, runner: Any) -> list | dict:
        return _per_optimizer(runner, lambda optim, key: [
            self.get_momentum(runner, group) for group in optim.param_groups])
