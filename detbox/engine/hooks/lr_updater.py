"""Learning-rate schedules as hooks (mmcv 1.x's ``LrUpdaterHook`` family, same arithmetic).

``lr_config = dict(policy='step', ...)`` selects ``StepLrUpdaterHook``: a lowercase policy is
title-cased (``'cosine'`` -> ``Cosine``), any other spelling is used as is
(``'CosineAnnealing'``), then ``LrUpdaterHook`` is appended.

The base lr of each param group is its ``initial_lr`` (set from ``lr`` on the first run and
saved with the optimizer state, so a resumed run continues the same schedule). With
``by_epoch=True`` the regular lr is set at each epoch start from ``runner.epoch``; otherwise at
each iteration from ``runner.iter``. During warmup (``runner.iter < warmup_iters``) the lr is
the regular lr times:

- ``'constant'``: ``warmup_ratio``;
- ``'linear'``: ``1 - (1 - iter / warmup_iters) * (1 - warmup_ratio)``;
- ``'exp'``: ``warmup_ratio ** (1 - iter / warmup_iters)``.
"""

from __future__ import annotations

import numbers
from math import cos, pi
from typing import Any, Callable

from ...registry import HOOKS
from .hook import Hook

__all__ = ["LrUpdaterHook", "FixedLrUpdaterHook", "StepLrUpdaterHook", "ExpLrUpdaterHook",
           "PolyLrUpdaterHook", "InvLrUpdaterHook", "CosineAnnealingLrUpdaterHook",
           "FlatCosineAnnealingLrUpdaterHook", "CosineRestartLrUpdaterHook",
           "LinearAnnealingLrUpdaterHook", "annealing_cos", "annealing_linear",
           "anneal_function", "format_param", "get_position_from_periods", "step_exponent"]


def annealing_cos(start: float, end: float, factor: float, weight: float = 1.0) -> float:
    """Cosine from ``weight * start + (1 - weight) * end`` (factor 0) to ``end`` (factor 1).

    >>> annealing_cos(1.0, 0.0, 0.5)
    0.5
    """
    return end + 0.5 * weight * (start - end) * (cos(pi * factor) + 1)


def annealing_linear(start: float, end: float, factor: float) -> float:
    """Straight line from ``start`` (factor 0) to ``end`` (factor 1)."""
    return start + (end - start) * factor


def format_param(name: str, optim: Any, param: float | list | dict) -> list:
    """A per-group list from a number, a per-group list, or a dict over optimizer names."""
    if isinstance(param, numbers.Number):
        return [param] * len(optim.param_groups)
    if isinstance(param, (list, tuple)):
        if len(param) != len(optim.param_groups):
            raise ValueError(f"expected {len(optim.param_groups)} values for {name}, "
                             f"got {len(param)}")
        return list(param)
    if name not in param:
        raise KeyError(f"{name} is not found in {list(param)}")
    return param[name]


def get_position_from_periods(iteration: int, cumulative_periods: list[int]) -> int:
    """Index of the first cumulative period end greater than ``iteration``.

    >>> get_position_from_periods(210, [100, 200, 300, 400])
    2
    """
    for i, period in enumerate(cumulative_periods):
        if iteration < period:
            return i
    raise ValueError(f"Current iteration {iteration} exceeds cumulative_periods "
                     f"{cumulative_periods}")


def _per_optimizer(runner: Any, fn: Callable[[Any, Any], Any]) -> Any:
    """``fn(optimizer, key)`` for the runner's optimizer, or a dict over a dict of them."""
    if isinstance(runner.optimizer, dict):
        return {k: fn(optim, k) for k, optim in runner.optimizer.items()}
    return fn(runner.optimizer, None)


class LrUpdaterHook(Hook):
    """Base of the lr schedules: warmup and the update points; subclasses define ``get_lr``.

    Args:
        by_epoch: update the regular lr once per epoch (from ``runner.epoch``) instead of
            every iteration (from ``runner.iter``).
        warmup: ``None``, ``'constant'``, ``'linear'`` or ``'exp'``.
        warmup_iters: length of the warmup, in iterations (or epochs with
            ``warmup_by_epoch``).
        warmup_ratio: the lr at the start of warmup, as a fraction of the regular lr.
        warmup_by_epoch: count ``warmup_iters`` in epochs.
    """

    def __init__(self, by_epoch: bool = True, warmup: str | None = None, warmup_iters: int = 0,
                 warmup_ratio: float = 0.1, warmup_by_epoch: bool = False) -> None:
        if warmup is not None:
            if warmup not in ("constant", "linear", "exp"):
                raise ValueError(f'"{warmup}" is not a supported type for warming up, valid '
                                 f'types are "constant", "linear" and "exp"')
            if not warmup_iters > 0:
                raise ValueError(f'"warmup_iters" must be a positive integer, got {warmup_iters}')
            if not 0 < warmup_ratio <= 1.0:
                raise ValueError(f'"warmup_ratio" must be in range (0,1], got {warmup_ratio}')
        self.by_epoch = by_epoch
        self.warmup = warmup
        self.warmup_iters: int | None = warmup_iters
        self.warmup_ratio = warmup_ratio
        self.warmup_by_epoch = warmup_by_epoch
        if warmup_by_epoch:
            self.warmup_epochs: int | None = warmup_iters
            self.warmup_iters = None
        else:
            self.warmup_epochs = None
        self.base_lr: list | dict = []
        self.regular_lr: list | dict = []

    def _set_lr(self, runner: Any, lr_groups: list | dict) -> None:
        def apply(optim: Any, key: Any) -> None:
            values = lr_groups if key is None else lr_groups[key]
            for group, lr in zip(optim.param_groups, values):
                group["lr"] = lr
        _per_optimizer(runner, apply)

    def get_lr(self, runner: Any, base_lr: float) -> float:
        """The regular (post-warmup) lr of a group whose base lr is ``base_lr``."""
        raise NotImplementedError

    def get_regular_lr(self, runner: Any) -> list | dict:
        if isinstance(self.base_lr, dict):
            return {k: [self.get_lr(runner, lr) for lr in lrs] for k, lrs in self.base_lr.items()}
        return [self.get_lr(runner, lr) for lr in self.base_lr]

    def get_warmup_lr(self, cur_iters: int) -> list | dict:
        """The regular lr scaled by the warmup factor at iteration ``cur_iters``."""
        def scale(lrs: list) -> list:
            if self.warmup == "constant":
                return [lr * self.warmup_ratio for lr in lrs]
            if self.warmup == "linear":
                k = (1 - cur_iters / self.warmup_iters) * (1 - self.warmup_ratio)
                return [lr * (1 - k) for lr in lrs]
            k = self.warmup_ratio ** (1 - cur_iters / self.warmup_iters)
            return [lr * k for lr in lrs]
        if isinstance(self.regular_lr, dict):
            return {k: scale(lrs) for k, lrs in self.regular_lr.items()}
        return scale(self.regular_lr)

    def before_run(self, runner: Any) -> None:
        def initial(optim: Any, key: Any) -> list:
            for group in optim.param_groups:
                group.setdefault("initial_lr", group["lr"])
            return [group["initial_lr"] for group in optim.param_groups]
        self.base_lr = _per_optimizer(runner, initial)

    def before_train_epoch(self, runner: Any) -> None:
        if self.warmup_iters is None:
            self.warmup_iters = self.warmup_epochs * len(runner.data_loader)
        if not self.by_epoch:
            return
        self.regular_lr = self.get_regular_lr(runner)
        self._set_lr(runner, self.regular_lr)

    def before_train_iter(self, runner: Any) -> None:
        cur_iter = runner.iter
        if self.warmup_iters is None:  # iteration-based runners have no train epochs
            self.warmup_iters = self.warmup_epochs * len(runner.data_loader)
        if not self.by_epoch:
            self.regular_lr = self.get_regular_lr(runner)
            if self.warmup is None or cur_iter >= self.warmup_iters:
                self._set_lr(runner, self.regular_lr)
            else:
                self._set_lr(runner, self.get_warmup_lr(cur_iter))
        else:
            if self.warmup is None or cur_iter > self.warmup_iters:
                return
            if cur_iter == self.warmup_iters:
                self._set_lr(runner, self.regular_lr)
            else:
                self._set_lr(runner, self.get_warmup_lr(cur_iter))


def _progress(hook: Any, runner: Any) -> tuple[int, int]:
    """``(epoch, max_epochs)`` or ``(iter, max_iters)`` following ``hook.by_epoch``."""
    if hook.by_epoch:
        return runner.epoch, runner.max_epochs
    return runner.iter, runner.max_iters


def _target_lr(hook: Any, base_lr: float) -> float:
    return base_lr * hook.min_lr_ratio if hook.min_lr_ratio is not None else hook.min_lr


def _check_min_lr(min_lr: float | None, min_lr_ratio: float | None) -> None:
    if (min_lr is None) == (min_lr_ratio is None):
        raise ValueError(f"give exactly one of min_lr and min_lr_ratio, got min_lr={min_lr}, "
                         f"min_lr_ratio={min_lr_ratio}")


def _check_steps(step: Any) -> None:
    if isinstance(step, list):
        if not all(isinstance(s, int) and s > 0 for s in step):
            raise ValueError(f'"step" must be positive ints, got {step}')
    elif isinstance(step, int):
        if step <= 0:
            raise ValueError(f'"step" must be positive, got {step}')
    else:
        raise TypeError(f'"step" must be a list or integer, got {type(step).__name__}')


def step_exponent(step: int | list[int], progress: int) -> int:
    """How many decay steps ``progress`` has passed (``step`` an interval or milestones)."""
    if isinstance(step, int):
        return progress // step
    for i, s in enumerate(step):
        if progress < s:
            return i
    return len(step)


@HOOKS.register_module()
class FixedLrUpdaterHook(LrUpdaterHook):
    """Constant lr (after an optional warmup)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)

    def get_lr(self, runner: Any, base_lr: float) -> float:
        return base_lr


@HOOKS.register_module()
class StepLrUpdaterHook(LrUpdaterHook):
    """``lr = base_lr * gamma ** (steps passed)``, at least ``min_lr``.

    Args:
        step: an interval (decay every ``step``) or milestones (decay at each).
        gamma: the decay factor.
        min_lr: lower bound of the lr, or ``None``.
    """

    def __init__(self, step: int | list[int], gamma: float = 0.1, min_lr: float | None = None,
                 **kwargs: Any) -> None:
        _check_steps(step)
        self.step = step
        self.gamma = gamma
        self.min_lr = min_lr
        super().__init__(**kwargs)

    def get_lr(self, runner: Any, base_lr: float) -> float:
        progress = runner.epoch if self.by_epoch else runner.iter
        lr = base_lr * self.gamma ** step_exponent(self.step, progress)
        return max(lr, self.min_lr) if self.min_lr is not None else lr


@HOOKS.register_module()
class ExpLrUpdaterHook(LrUpdaterHook):
    """``lr = base_lr * gamma ** progress``."""

    def __init__(self, gamma: float, **kwargs: Any) -> None:
        self.gamma = gamma
        super().__init__(**kwargs)

    def get_lr(self, runner: Any, base_lr: float) -> float:
        progress = runner.epoch if self.by_epoch else runner.iter
        return base_lr * self.gamma ** progress


@HOOKS.register_module()
class PolyLrUpdaterHook(LrUpdaterHook):
    """``lr = (base_lr - min_lr) * (1 - progress / max_progress) ** power + min_lr``."""

    def __init__(self, power: float = 1.0, min_lr: float = 0.0, **kwargs: Any) -> None:
        self.power = power
        self.min_lr = min_lr
        super().__init__(**kwargs)

    def get_lr(self, runner: Any, base_lr: float) -> float:
        progress, max_progress = _progress(self, runner)
        coeff = (1 - progress / max_progress) ** self.power
        return (base_lr - self.min_lr) * coeff + self.min_lr


@HOOKS.register_module()
class InvLrUpdaterHook(LrUpdaterHook):
    """``lr = base_lr * (1 + gamma * progress) ** -power``."""

    def __init__(self, gamma: float, power: float = 1.0, **kwargs: Any) -> None:
        self.gamma = gamma
        self.power = power
        super().__init__(**kwargs)

    def get_lr(self, runner: Any, base_lr: float) -> float:
        progress = runner.epoch if self.by_epoch else runner.iter
        return base_lr * (1 + self.gamma * progress) ** (-self.power)


@HOOKS.register_module()
class CosineAnnealingLrUpdaterHook(LrUpdaterHook):
    """Cosine from ``base_lr`` to ``min_lr`` (or ``base_lr * min_lr_ratio``) over the run."""

    def __init__(self, min_lr: float | None = None, min_lr_ratio: float | None = None,
                 **kwargs: Any) -> None:
        _check_min_lr(min_lr, min_lr_ratio)
        self.min_lr = min_lr
        self.min_lr_ratio = min_lr_ratio
        super().__init__(**kwargs)

    def get_lr(self, runner: Any, base_lr: float) -> float:
        progress, max_progress = _progress(self, runner)
        return annealing_cos(base_lr, _target_lr(self, base_lr), progress / max_progress)


@HOOKS.register_module()
class FlatCosineAnnealingLrUpdaterHook(LrUpdaterHook):
    """``base_lr`` until ``start_percent`` of the run, then cosine down to the target lr.

    Args:
        start_percent: where annealing starts, a float in [0, 1).
        min_lr: the final lr; or
        min_lr_ratio: the final lr as a fraction of the base lr.
    """

    def __init__(self, start_percent: float = 0.75, min_lr: float | None = None,
                 min_lr_ratio: float | None = None, **kwargs: Any) -> None:
        _check_min_lr(min_lr, min_lr_ratio)
        if not isinstance(start_percent, float) or not 0 <= start_percent <= 1:
            raise ValueError(f"expected float between 0 and 1 start_percent, but got "
                             f"{start_percent}")
        self.start_percent = start_percent
        self.min_lr = min_lr
        self.min_lr_ratio = min_lr_ratio
        super().__init__(**kwargs)

    def get_lr(self, runner: Any, base_lr: float) -> float:
        progress, max_progress = _progress(self, runner)
        start = round(max_progress * self.start_percent)
        if progress - start < 0:
            return base_lr
        return annealing_cos(base_lr, _target_lr(self, base_lr),
                             (progress - start) / (max_progress - start))


@HOOKS.register_module()
class CosineRestartLrUpdaterHook(LrUpdaterHook):
    """Cosine annealing restarted at the end of each period.

    Args:
        periods: length of each cycle.
        restart_weights: the start of cycle i is ``w * base_lr + (1 - w) * target``.
        min_lr: the lr at the end of each cycle; or
        min_lr_ratio: that lr as a fraction of the base lr.
    """

    def __init__(self, periods: list[int], restart_weights: list[float] = (1,),  # type: ignore
                 min_lr: float | None = None, min_lr_ratio: float | None = None,
                 **kwargs: Any) -> None:
        _check_min_lr(min_lr, min_lr_ratio)
        if len(periods) != len(restart_weights):
            raise ValueError("periods and restart_weights should have the same length.")
        self.periods = list(periods)
        self.restart_weights = list(restart_weights)
        self.min_lr = min_lr
        self.min_lr_ratio = min_lr_ratio
        super().__init__(**kwargs)
        self.cumulative_periods = [sum(self.periods[:i + 1]) for i in range(len(self.periods))]

    def get_lr(self, runner: Any, base_lr: float) -> float:
        progress = runner.epoch if self.by_epoch else runner.iter
        idx = get_position_from_periods(progress, self.cumulative_periods)
        nearest_restart = 0 if idx == 0 else self.cumulative_periods[idx - 1]
        alpha = min((progress - nearest_restart) / self.periods[idx], 1)
        return annealing_cos(base_lr, _target_lr(self, base_lr), alpha,
                             self.restart_weights[idx])


@HOOKS.register_module()
class LinearAnnealingLrUpdaterHook(LrUpdaterHook):
    """Straight line from ``base_lr`` to ``min_lr`` (or ``base_lr * min_lr_ratio``)."""

    def __init__(self, min_lr: float | None = None, min_lr_ratio: float | None = None,
                 **kwargs: Any) -> None:
        _check_min_lr(min_lr, min_lr_ratio)
        self.min_lr = min_lr
        self.min_lr_ratio = min_lr_ratio
        super().__init__(**kwargs)

    def get_lr(self, runner: Any, base_lr: float) -> float:
        progress, max_progress = _progress(self, runner)
        return annealing_linear(base_lr, _target_lr(self, base_lr), progress / max_progress)


def anneal_function(strategy: str) -> Callable[..., float]:
    """``annealing_cos`` for ``'cos'``, ``annealing_linear`` for ``'linear'``."""
    if strategy == "cos":
        return annealing_cos
    if strategy == "linear":
        return annealing_linear
    raise ValueError(f'anneal_strategy must be one of "cos" or "linear", instead got {strategy}')
