"""Training epoch by epoch (mmcv 1.x's ``EpochBasedRunner``)."""

from __future__ import annotations

from typing import Any

import torch

from ..registry import RUNNERS
from .runner import BaseRunner

__all__ = ["EpochBasedRunner"]


@RUNNERS.register_module()
class EpochBasedRunner(BaseRunner):
    """Runs ``workflow`` phases epoch by epoch until ``max_epochs`` training epochs are done.

    ``workflow=[('train', 1), ('val', 1)]`` alternates one training epoch (``train_step``)
    and one validation epoch (``val_step`` under ``torch.no_grad()``, losses logged as
    ``mode='val'``). See :class:`~detbox.engine.BaseRunner` for the arguments and
    :class:`~detbox.engine.hooks.Hook` for the hook call order.

    Unlike mmcv, there is no 2-second sleep between epochs.
    """

    def train(self, data_loader: Any, **kwargs: Any) -> None:
        """One training epoch over ``data_loader``."""
        self.model.train()
        self.mode = "train"
        self.data_loader = data_loader
        self._max_iters = self._max_epochs * len(data_loader)
        self.call_hook("before_train_epoch")
        for i, data_batch in enumerate(data_loader):
            self.data_batch = self.prepare_batch(data_batch)
            self._inner_iter = i
            self.call_hook("before_train_iter")
            self.run_iter(self.data_batch, train_mode=True, **kwargs)
            self.call_hook("after_train_iter")
            del self.data_batch
            self._iter += 1
        self.call_hook("after_train_epoch")
        self._epoch += 1

    @torch.no_grad()
    def val(self, data_loader: Any, **kwargs: Any) -> None:
        """One validation epoch: ``val_step`` on every batch, without gradients."""
        self.model.eval()
        self.mode = "val"
        self.data_loader = data_loader
        self.call_hook("before_val_epoch")
        for i, data_batch in enumerate(data_loader):
            self.data_batch = self.prepare_batch(data_batch)
            self._inner_iter = i
            self.call_hook("before_val_iter")
            self.run_iter(self.data_batch, train_mode=False, **kwargs)
            self.call_hook("after_val_iter")
            del self.data_batch
        self.call_hook("after_val_epoch")

    def run(self, data_loaders: list, workflow: list[tuple[str, int]],
            max_epochs: int | None = None, **kwargs: Any) -> None:
        """Train (and validate) following ``workflow`` until ``max_epochs``.

        Args:
            data_loaders: one loader per workflow phase.
            workflow: ``[(mode, epochs), ...]`` such as ``[('train', 1), ('val', 1)]``.
            max_epochs: deprecated; set it on the runner.
        """
        self._check_workflow(data_loaders, workflow)
        if max_epochs is not None:
            self._max_epochs = max_epochs
        if self._max_epochs is None:
            raise ValueError("max_epochs must be given to the runner (runner.max_epochs)")
        for i, (mode, _) in enumerate(workflow):
            if mode == "train":
                self._max_iters = self._max_epochs * len(data_loaders[i])
                break
        else:
            raise ValueError(f"workflow {workflow} has no 'train' phase; the epoch-based runner "
                             f"counts training epochs (use tools/test.py to only evaluate)")
        self.logger.info("Start running, work_dir: %s", self.work_dir or "NONE")
        self.logger.info("Hooks will be executed in the following order:\n%s",
                         self.get_hook_info())
        self.logger.info("workflow: %s, max: %d epochs", workflow, self._max_epochs)
        self._before_run()
        while self.epoch < self._max_epochs and not self.should_stop:
            for i, (mode, epochs) in enumerate(workflow):
                for _ in range(epochs):
                    if mode == "train" and (self.epoch >= self._max_epochs or self.should_stop):
                        break
                    getattr(self, mode)(data_loaders[i], **kwargs)
        self.call_hook("after_run")

    def save_checkpoint(self, out_dir: str, filename_tmpl: str = "epoch_{}.pth",
                        save_optimizer: bool = True, meta: dict | None = None,
                        create_symlink: bool = True) -> None:
        """Save ``epoch_{epoch + 1}.pth`` (and point ``latest.pth`` at it).

        Args:
            out_dir: the folder.
            filename_tmpl: file name with a ``{}`` for the (1-based) epoch.
            save_optimizer: include the optimizer state.
            meta: extra meta (the runner's ``meta`` and epoch/iter are added).
            create_symlink: update ``latest.pth`` (a symlink, or a copy where symlinks fail).
        """
        self._write_checkpoint(out_dir, filename_tmpl.format(self.epoch + 1), save_optimizer,
                               meta, create_symlink)
