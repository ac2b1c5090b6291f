"""Saving checkpoints periodically (mmcv 1.x's ``CheckpointHook``)."""

from __future__ import annotations

import os
from typing import Any

from ...registry import HOOKS
from ...suggest import close_matches
from ..dist import allreduce_params, get_dist_info
from .hook import Hook

__all__ = ["CheckpointHook"]

_SAVE_ARGS = ("filename_tmpl", "meta", "create_symlink")


@HOOKS.register_module()
class CheckpointHook(Hook):
    """Save ``epoch_N.pth`` (or ``iter_N.pth``) every ``interval`` epochs (iterations).

    Only rank 0 writes. ``latest.pth`` points at the newest checkpoint and
    ``runner.meta['hook_msgs']['last_ckpt']`` records its path.

    Args:
        interval: the period; -1 never saves (except the last one with ``save_last``).
        by_epoch: count ``interval`` in epochs (else iterations).
        save_optimizer: include the optimizer state (needed to resume).
        out_dir: root folder; the checkpoints go to ``out_dir/<name of work_dir>``. Default:
            ``runner.work_dir``.
        max_keep_ckpts: keep only this many of the newest periodic checkpoints (-1: all).
        save_last: always save at the last epoch (iteration).
        sync_buffer: average model buffers (BN statistics) over processes before saving.
        file_client_args: must be ``None`` (only local files are supported).
        **kwargs: passed to ``runner.save_checkpoint``: ``filename_tmpl``, ``meta`` (extra
            meta, such as ``CLASSES``) and ``create_symlink``.
    """

    _accepts_any_kwargs = True  # checked against _SAVE_ARGS below

    def __init__(self, interval: int = -1, by_epoch: bool = True, save_optimizer: bool = True,
                 out_dir: str | None = None, max_keep_ckpts: int = -1, save_last: bool = True,
                 sync_buffer: bool = False, file_client_args: dict | None = None,
                 **kwargs: Any) -> None:
        for key in kwargs:
            if key not in _SAVE_ARGS:
                close = close_matches(key, list(_SAVE_ARGS) + [
                    "interval", "by_epoch", "save_optimizer", "out_dir", "max_keep_ckpts",
                    "save_last", "sync_buffer", "file_client_args"])
                hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
                raise TypeError(f"CheckpointHook got an unexpected argument '{key}'{hint}")
        if file_client_args is not None:
            raise ValueError("CheckpointHook: file_client_args is not supported (local files "
                             "only); remove it")
        self.interval = interval
        self.by_epoch = by_epoch
        self.save_optimizer = save_optimizer
        self.out_dir = out_dir
        self.max_keep_ckpts = max_keep_ckpts
        self.save_last = save_last
        self.sync_buffer = sync_buffer
        self.file_client_args = file_client_args
        self.args = kwargs

    def before_run(self, runner: Any) -> None:
        if not self.out_dir:
            self.out_dir = runner.work_dir
        elif self.out_dir != runner.work_dir:
            self.out_dir = os.path.join(self.out_dir,
                                        os.path.basename(runner.work_dir.rstrip(os.sep)))
        if self.out_dir is None:
            raise ValueError("CheckpointHook needs runner.work_dir or out_dir")
        runner.logger.info("Checkpoints will be saved to %s", self.out_dir)
        self.args.setdefault("create_symlink", True)

    def after_train_epoch(self, runner: Any) -> None:
        if not self.by_epoch:
            return
        if self.every_n_epochs(runner, self.interval) or (
                self.save_last and self.is_last_epoch(runner)):
            runner.logger.info("Saving checkpoint at %d epochs", runner.epoch + 1)
            self._save(runner)

    def after_train_iter(self, runner: Any) -> None:
        if self.by_epoch:
            return
        if self.every_n_iters(runner, self.interval) or (
                self.save_last and self.is_last_iter(runner)):
            runner.logger.info("Saving checkpoint at %d iterations", runner.iter + 1)
            self._save(runner)

    def _save(self, runner: Any) -> None:
        if self.sync_buffer:
            allreduce_params(runner.model.buffers())
        if get_dist_info()[0] == 0:
            self._save_checkpoint(runner)

    def _save_checkpoint(self, runner: Any) -> None:
        """Save the current checkpoint and delete the ones beyond ``max_keep_ckpts``."""
        runner.save_checkpoint(self.out_dir, save_optimizer=self.save_optimizer, **self.args)
        default_tmpl, current = (("epoch_{}.pth", runner.epoch + 1) if self.by_epoch
                                 else ("iter_{}.pth", runner.iter + 1))
        filename_tmpl = self.args.get("filename_tmpl", default_tmpl)
        runner.meta.setdefault("hook_msgs", {})["last_ckpt"] = os.path.join(
            self.out_dir, filename_tmpl.format(current))
        if self.max_keep_ckpts > 0:
            step = self.interval if self.interval > 0 else 1
            for old in range(current - self.max_keep_ckpts * step, 0, -step):
                path = os.path.join(self.out_dir, filename_tmpl.format(old))
                if not os.path.isfile(path):
                    break
                os.remove(path)
