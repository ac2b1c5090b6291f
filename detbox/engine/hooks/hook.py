"""The hook base class: the points where the training loop calls out (see :class:`Hook`)."""

from __future__ import annotations

from typing import Any

from ...registry import HOOKS

__all__ = ["Hook", "HOOKS"]

_SHORTHANDS = {
    "before_epoch": ("before_train_epoch", "before_val_epoch"),
    "after_epoch": ("after_train_epoch", "after_val_epoch"),
    "before_iter": ("before_train_iter", "before_val_iter"),
    "after_iter": ("after_train_iter", "after_val_iter"),
}


class Hook:
    """Base class of hooks; override the stages you need (all default to no-ops).

    A runner keeps its hooks sorted by priority (lower first; equal priorities in registration
    order) and calls every hook's method of the same name at each point. The call order of
    :class:`~detbox.engine.EpochBasedRunner.run` is::

        before_run
        repeat until max_epochs (following ``workflow``, e.g. [('train', 1), ('val', 1)]):
            train epoch:
                before_train_epoch           -> before_epoch by default
                for each batch:
                    before_train_iter        -> before_iter
                    outputs = model.train_step(data_batch, optimizer)
                    after_train_iter         -> after_iter   (OptimizerHook steps here)
                after_train_epoch            -> after_epoch  (checkpoint, evaluation)
            val epoch (under torch.no_grad()):
                before_val_epoch, [before_val_iter, model.val_step, after_val_iter]...,
                after_val_epoch
        after_run

    :class:`~detbox.engine.IterBasedRunner` calls ``before_run``, ``before_epoch`` once, then
    ``before_train_iter``/``after_train_iter`` (and the ``val`` pair) per iteration, and finally
    ``after_epoch`` and ``after_run``.

    Inside a hook, ``runner.epoch`` and ``runner.iter`` count *finished* epochs and iterations
    (0-based), so the first ``after_train_iter`` sees ``runner.iter == 0``; ``runner.inner_iter``
    is the index of the batch in the current epoch.

    The ``*_train_*`` and ``*_val_*`` stages call the mode-less ones (``before_epoch``...),
    so overriding ``after_iter`` acts after both training and validation iterations.
    """

    stages = ("before_run", "before_train_epoch", "before_train_iter", "after_train_iter",
              "after_train_epoch", "before_val_epoch", "before_val_iter", "after_val_iter",
              "after_val_epoch", "after_run")

    def before_run(self, runner: Any) -> None:
        pass

    def after_run(self, runner: Any) -> None:
        pass

    def before_epoch(self, runner: Any) -> None:
        pass

    def after_epoch(self, runner: Any) -> None:
        pass

    def before_iter(self, runner: Any) -> None:
        pass

    def after_iter(self, runner: Any) -> None:
        pass

    def before_train_epoch(self, runner: Any) -> None:
        self.before_epoch(runner)

    def before_val_epoch(self, runner: Any) -> None:
        self.before_epoch(runner)

    def after_train_epoch(self, runner: Any) -> None:
        self.after_epoch(runner)

    def after_val_epoch(self, runner: Any) -> None:
        self.after_epoch(runner)

    def before_train_iter(self, runner: Any) -> None:
        self.before_iter(runner)

    def before_val_iter(self, runner: Any) -> None:
        self.before_iter(runner)

    def after_train_iter(self, runner: Any) -> None:
        self.after_iter(runner)

    def after_val_iter(self, runner: Any) -> None:
        self.after_iter(runner)

    # Helpers for periodic hooks. ``n <= 0`` means "never".
    def every_n_epochs(self, runner: Any, n: int) -> bool:
        """Whether the epoch being finished (``runner.epoch + 1``) is a multiple of ``n``."""
        return (runner.epoch + 1) % n == 0 if n > 0 else False

    def every_n_inner_iters(self, runner: Any, n: int) -> bool:
        """Whether the batch being finished in this epoch is a multiple of ``n``."""
        return (runner.inner_iter + 1) % n == 0 if n > 0 else False

    def every_n_iters(self, runner: Any, n: int) -> bool:
        """Whether the iteration being finished (``runner.iter + 1``) is a multiple of ``n``."""
        return (runner.iter + 1) % n == 0 if n > 0 else False

    def end_of_epoch(self, runner: Any) -> bool:
        """Whether the current batch is the last one of the epoch."""
        return runner.inner_iter + 1 == len(runner.data_loader)

    def is_last_epoch(self, runner: Any) -> bool:
        """Whether the current epoch is the last one."""
        return runner.epoch + 1 == runner.max_epochs

    def is_last_iter(self, runner: Any) -> bool:
        """Whether the current iteration is the last one."""
        return runner.iter + 1 == runner.max_iters

    def get_triggered_stages(self) -> list[str]:
        """The stages at which this hook does something (it overrides them or their shorthand)."""
        overridden = {name for name in dir(type(self))
                      if getattr(type(self), name, None) is not getattr(Hook, name, None)}
        stages = {s for s in Hook.stages if s in overridden}
        for shorthand, mapped in _SHORTHANDS.items():
            if shorthand in overridden:
                stages.update(mapped)
        return [s for s in Hook.stages if s in stages]

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
