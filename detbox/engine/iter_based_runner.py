"""Training iteration by iteration (mmcv 1.x's ``IterBasedRunner``)."""

from __future__ import annotations

from typing import Any

import torch

from ..registry import RUNNERS
from .hooks.hook import Hook
from .runner import BaseRunner

__all__ = ["IterBasedRunner", "IterLoader"]


class IterLoader:
    """An endless iterator over a data loader; ``epoch`` counts its restarts.

    At each restart the sampler's ``set_epoch(epoch)`` is called when it has one.
    """

    def __init__(self, dataloader: Any) -> None:
        self._dataloader = dataloader
        self.iter_loader = iter(dataloader)
        self._epoch = 0

    @property
    def epoch(self) -> int:
        return self._epoch

    def __next__(self) -> Any:
        try:
            return next(self.iter_loader)
        except StopIteration:
            self._epoch += 1
            sampler = getattr(self._dataloader, "sampler", None)
            if hasattr(sampler, "set_epoch"):
                sampler.set_epoch(self._epoch)
            self.iter_loader = iter(self._dataloader)
            return next(self.iter_loader)

    def __len__(self) -> int:
        return len(self._dataloader)


@RUNNERS.register_module()
class IterBasedRunner(BaseRunner):
    """Runs ``workflow`` phases iteration by iteration until ``max_iters``.

    ``workflow=[('train', 1000), ('val', 10)]`` alternates 1000 training and 10 validation
    iterations. Checkpoints are ``iter_{n}.pth``; logger, checkpoint and lr hooks default to
    ``by_epoch=False``. ``runner.epoch`` is the number of passes over the training loader.
    """

    def train(self, data_loader: IterLoader, **kwargs: Any) -> None:
        """One training iteration."""
        self.model.train()
        self.mode = "train"
        self.data_loader = data_loader
        self._epoch = data_loader.epoch
        self.data_batch = self.prepare_batch(next(data_loader))
        self.call_hook("before_train_iter")
        self.run_iter(self.data_batch, train_mode=True, **kwargs)
        self.call_hook("after_train_iter")
        del self.data_batch
        self._inner_iter += 1
        self._iter += 1

    @torch.no_grad()
    def val(self, data_loader: IterLoader, **kwargs: Any) -> None:
        """One validation iteration (``val_step`` without gradients)."""
        self.model.eval()
        self.mode = "val"
        self.data_loader = data_loader
        self.data_batch = self.prepare_batch(next(data_loader))
        self.call_hook("before_val_iter")
        self.run_iter(self.data_batch, train_mode=False, **kwargs)
        self.call_hook("after_val_iter")
        del self.data_batch
        self._inner_iter += 1

    def run(self, data_loaders: list, workflow: list[tuple[str, int]],
            max_iters: int | None = None, **kwargs: Any) -> None:
        """Train (and validate) following ``workflow`` until ``max_iters``.

        Args:
            data_loaders: one loader per workflow phase.
            workflow: ``[(mode, iterations), ...]``.
            max_iters: deprecated; set it on the runner.
        """
        self._check_workflow(data_loaders, workflow)
        if max_iters is not None:
            self._max_iters = max_iters
        if self._max_iters is None:
            raise ValueError("max_iters must be given to the runner (runner.max_iters)")
        self.logger.info("Start running, work_dir: %s", self.work_dir or "NONE")
        self.logger.info("Hooks will be executed in the following order:\n%s",
                         self.get_hook_info())
        self.logger.info("workflow: %s, max: %d iters", workflow, self._max_iters)
        self._before_run()
        iter_loaders = [IterLoader(loader) for loader in data_loaders]
        self.call_hook("before_epoch")
        while self.iter < self._max_iters and not self.should_stop:
            for i, (mode, iters) in enumerate(workflow):
                self._inner_iter = 0
                for _ in range(iters):
                    if mode == "train" and (self.iter >= self._max_iters or self.should_stop):
                        break
                    getattr(self, mode)(iter_loaders[i], **kwargs)
        self.call_hook("after_epoch")
        self.call_hook("after_run")

    def resume(self, checkpoint: str, resume_optimizer: bool = True,
               map_location: Any = "cpu") -> None:
        """See :meth:`BaseRunner.resume`; ``inner_iter`` restarts at the resumed iteration."""
        super().resume(checkpoint, resume_optimizer, map_location)
        self._inner_iter = self._iter

    def save_checkpoint(self, out_dir: str, filename_tmpl: str = "iter_{}.pth",
                        meta: dict | None = None, save_optimizer: bool = True,
                        create_symlink: bool = True) -> None:
        """Save ``iter_{iter + 1}.pth`` (and point ``latest.pth`` at it)."""
        self._write_checkpoint(out_dir, filename_tmpl.format(self.iter + 1), save_optimizer,
                               meta, create_symlink)

    def register_training_hooks(self, lr_config: dict | Hook | None,
                                optimizer_config: dict | Hook | None = None,
                                checkpoint_config: dict | Hook | None = None,
                                log_config: dict | None = None,
                                momentum_config: dict | Hook | None = None,
                                timer_config: dict | Hook | None = None,
                                custom_hooks_config: list | dict | Hook | None = None,
                                progress_bar: bool | None = None) -> None:
        """As :meth:`BaseRunner.register_training_hooks`, with ``by_epoch=False`` defaults
        for the checkpoint, lr and logger hooks (config dicts are copied, not modified)."""
        if isinstance(checkpoint_config, dict):
            checkpoint_config = {"by_epoch": False, **checkpoint_config}
        if isinstance(lr_config, dict):
            lr_config = {"by_epoch": False, **lr_config}
        if isinstance(log_config, dict):
            log_config = dict(log_config)
            log_config["hooks"] = [
                {"by_epoch": False, **info}
                if isinstance(info, dict) and info.get("type") != "ProgressBarHook" else info
                for info in log_config.get("hooks", [])]
        super().register_training_hooks(
            lr_config, optimizer_config, checkpoint_config, log_config, momentum_config,
            timer_config, custom_hooks_config, progress_bar)
