"""Cyclic learning-rate schedules (mmcv 1.x's ``CyclicLrUpdaterHook`` and
``OneCycleLrUpdaterHook``); iteration-based only."""

from __future__ import annotations

import numbers
from typing import Any

from ...registry import HOOKS
from .lr_updater import LrUpdaterHook, anneal_function, format_param

__all__ = ["CyclicLrUpdaterHook", "CyclicPhases", "OneCycleLrUpdaterHook", "normalize_target_ratio"]


def normalize_target_ratio(target_ratio: float | tuple) -> tuple[float, float]:
    """``(high, low)`` from a float (low = high / 1e5) or a tuple of one or two floats."""
    if isinstance(target_ratio, float):
        target_ratio = (target_ratio, target_ratio / 1e5)
    elif isinstance(target_ratio, (tuple, list)):
        target_ratio = ((target_ratio[0], target_ratio[0] / 1e5) if len(target_ratio) == 1
                        else tuple(target_ratio))
    else:
        raise ValueError(f"target_ratio should be either float or tuple, got "
                         f"{type(target_ratio)}")
    if len(target_ratio) != 2:
        raise ValueError(f'"target_ratio" must be list or tuple of two floats, got {target_ratio}')
    return target_ratio  # type: ignore[return-value]


class CyclicPhases:
    """The phases of a cyclic schedule, as ratios of a base value (lr or momentum).

    Each of ``cyclic_times`` cycles over ``max_iters`` goes from 1 to ``target_ratio[0]`` in
    its first ``step_ratio_up`` part, then on to ``target_ratio[1]``; every cycle's amplitude is
    ``gamma`` times the previous one's.

    Args:
        target_ratio: ``(high, low)`` (see :func:`normalize_target_ratio`).
        cyclic_times: number of cycles.
        step_ratio_up: fraction of a cycle in the first phase, in [0, 1).
        anneal_strategy: ``'cos'`` or ``'linear'``.
        gamma: amplitude factor per cycle.
        by_epoch: must be ``False`` (iteration-based only, as mmcv).
    """

    def __init__(self, target_ratio: float | tuple, cyclic_times: int, step_ratio_up: float,
                 anneal_strategy: str, gamma: float, by_epoch: bool) -> None:
        self.target_ratio = normalize_target_ratio(target_ratio)
        if not 0 <= step_ratio_up < 1.0:
            raise ValueError(f'"step_ratio_up" must be in range [0,1), got {step_ratio_up}')
        if by_epoch:
            raise ValueError('currently only support "by_epoch" = False')
        self.cyclic_times = cyclic_times
        self.step_ratio_up = step_ratio_up
        self.gamma = gamma
        self.anneal_func = anneal_function(anneal_strategy)
        self.max_iter_per_phase: int | None = None
        self.phases: list = []

    def start(self, max_iters: int) -> None:
        """Lay out the phases of one cycle for a run of ``max_iters`` iterations."""
        self.max_iter_per_phase = max_iters // self.cyclic_times
        iter_up_phase = int(self.step_ratio_up * self.max_iter_per_phase)
        self.phases = [
            [0, iter_up_phase, 1, self.target_ratio[0]],
            [iter_up_phase, self.max_iter_per_phase, self.target_ratio[0], self.target_ratio[1]],
        ]

    def value(self, base: float, iteration: int, what: str) -> float:
        """The scheduled value at ``iteration`` for ``base``; ``what`` names it in errors."""
        assert self.max_iter_per_phase is not None, "CyclicPhases.start() was not called"
        curr_iter = iteration % self.max_iter_per_phase
        scale = self.gamma ** (iteration // self.max_iter_per_phase)
        for start_iter, end_iter, start_ratio, end_ratio in self.phases:
            if start_iter <= curr_iter < end_iter:
                if start_iter == 0:
                    end_ratio = 1 - scale + end_ratio * scale
                else:
                    start_ratio = 1 - scale + start_ratio * scale
                return self.anneal_func(base * start_ratio, base * end_ratio,
                                        (curr_iter - start_iter) / (end_iter - start_iter))
        raise RuntimeError(f"iteration {iteration} is outside every cyclic {what} phase")


@HOOKS.register_module()
class CyclicLrUpdaterHook(LrUpdaterHook):
    """Cycles of an up phase (base -> ``target_ratio[0]`` x base) and a down phase (-> ``[1]``).

    Args:
        by_epoch: must be ``False``.
        target_ratio: ``(high, low)`` relative to the base lr.
        cyclic_times: number of cycles over ``max_iters``.
        step_ratio_up: fraction of a cycle spent going up, in [0, 1).
        anneal_strategy: ``'cos'`` or ``'linear'``.
        gamma: each cycle's amplitude shrinks by this factor, in (0, 1].
    """

    def __init__(self, by_epoch: bool = False, target_ratio: float | tuple = (10, 1e-4),
                 cyclic_times: int = 1, step_ratio_up: float = 0.4, anneal_strategy: str = "cos",
                 gamma: float = 1, **kwargs: Any) -> None:
        if not 0 < gamma <= 1:
            raise ValueError(f'"gamma" must be in range (0, 1], got {gamma}')
        self.cycle = CyclicPhases(target_ratio, cyclic_times, step_ratio_up, anneal_strategy,
                                  gamma, by_epoch)
        self.target_ratio = self.cycle.target_ratio
        super().__init__(by_epoch, **kwargs)

    def before_run(self, runner: Any) -> None:
        super().before_run(runner)
        self.cycle.start(runner.max_iters)

    def get_lr(self, runner: Any, base_lr: float) -> float:
        return self.cycle.value(base_lr, runner.iter, "lr")


@HOOKS.register_module()
class OneCycleLrUpdaterHook(LrUpdaterHook):
    """The 1cycle policy: up from ``max_lr / div_factor`` to ``max_lr``, then down to
    ``max_lr / div_factor / final_div_factor`` (https://arxiv.org/abs/1708.07120).

    Args:
        max_lr: peak lr (a number, one per param group, or a dict over optimizer names).
        total_steps: cycle length; ``runner.max_iters`` by default.
        pct_start: fraction of the cycle going up.
        anneal_strategy: ``'cos'`` or ``'linear'``.
        div_factor: initial lr = ``max_lr / div_factor``.
        final_div_factor: final lr = initial lr / ``final_div_factor``.
        three_phase: up, back down to the initial lr symmetrically, then annihilate.
    """

    def __init__(self, max_lr: float | list | dict, total_steps: int | None = None,
                 pct_start: float = 0.3, anneal_strategy: str = "cos", div_factor: float = 25,
                 final_div_factor: float = 1e4, three_phase: bool = False,
                 **kwargs: Any) -> None:
        if kwargs.setdefault("by_epoch", False):
            raise ValueError('currently only support "by_epoch" = False')
        if not isinstance(max_lr, (numbers.Number, list, dict)):
            raise ValueError(f"the type of max_lr must be the one of list or dict, but got "
                             f"{type(max_lr)}")
        if total_steps is not None and not isinstance(total_steps, int):
            raise ValueError(f"the type of total_steps must be int, but got {type(total_steps)}")
        if not isinstance(pct_start, float) or not 0 <= pct_start <= 1:
            raise ValueError(f"expected float between 0 and 1 pct_start, but got {pct_start}")
        self._max_lr = max_lr
        self.total_steps = total_steps
        self.pct_start = pct_start
        self.anneal_func = anneal_function(anneal_strategy)
        self.div_factor = div_factor
        self.final_div_factor = final_div_factor
        self.three_phase = three_phase
        self.lr_phases: list = []
        super().__init__(**kwargs)

    def before_run(self, runner: Any) -> None:
        total_steps = self.total_steps if self.total_steps is not None else runner.max_iters
        if total_steps < runner.max_iters:
            raise ValueError(f"The total steps must be greater than or equal to max iterations "
                             f"{runner.max_iters} of runner, but total steps is {total_steps}.")

        def initial(optim: Any, key: Any) -> list:
            name = key if key is not None else type(optim).__name__
            base = [lr / self.div_factor for lr in format_param(name, optim, self._max_lr)]
            for group, lr in zip(optim.param_groups, base):
                group.setdefault("initial_lr", lr)
            return base

        if isinstance(runner.optimizer, dict):
            self.base_lr = {k: initial(o, k) for k, o in runner.optimizer.items()}
        else:
            self.base_lr = initial(runner.optimizer, None)
        up_end = float(self.pct_start * total_steps) - 1
        if self.three_phase:
            self.lr_phases = [
                [up_end, 1, self.div_factor],
                [float(2 * self.pct_start * total_steps) - 2, self.div_factor, 1],
                [total_steps - 1, 1, 1 / self.final_div_factor],
            ]
        else:
            self.lr_phases = [
                [up_end, 1, self.div_factor],
                [total_steps - 1, self.div_factor, 1 / self.final_div_factor],
            ]

    def get_lr(self, runner: Any, base_lr: float) -> float:
        curr_iter = runner.iter
        start_iter = 0
        for end_iter, start_lr, end_lr in self.lr_phases:
            if curr_iter <= end_iter:
                pct = (curr_iter - start_iter) / (end_iter - start_iter)
                return self.anneal_func(base_lr * start_lr, base_lr * end_lr, pct)
            start_iter = end_iter
        raise RuntimeError(f"iteration {curr_iter} is past the one-cycle schedule "
                           f"({self.lr_phases[-1][0] + 1} steps)")
