"""The runner base: hooks, checkpoints, resuming and what every training loop shares.

:class:`~detbox.engine.EpochBasedRunner` and :class:`~detbox.engine.IterBasedRunner` add the
loops. The call order of hooks is documented on :class:`~detbox.engine.hooks.Hook`. Besides
the hook stages, the runner offers two hook points of its own:

- ``runner.step_context``: ``None`` or a callable returning a context manager that wraps every
  ``model.train_step``/``val_step`` call (the fp16 optimizer hook sets it to
  ``torch.autocast``);
- ``runner.request_stop(reason)``: ends training at the end of the current epoch
  (epoch-based) or iteration (iteration-based), then runs ``after_run`` (early stopping).
"""

from __future__ import annotations

import copy
import logging
import os
import re
import time
from collections import OrderedDict
from contextlib import nullcontext
from typing import Any, Callable, ContextManager

import torch
from torch import nn
from torch.optim import Optimizer

from ..registry import HOOKS, UnknownTypeError
from .checkpoint import link_latest, save_checkpoint
from .dist import get_dist_info
from .hooks.hook import Hook
from .log_buffer import LogBuffer
from .parallel import model_device, move_to_device, unwrap_model
from .priority import Priority, get_priority

__all__ = ["BaseRunner", "get_time_str"]

# Keys of ``meta`` that describe the current run; kept over a resumed checkpoint's values.
_RUN_META_KEYS = ("env_info", "config", "seed", "exp_name")


def get_time_str() -> str:
    """The local time as ``YYYYmmdd_HHMMSS`` (names the log files)."""
    return time.strftime("%Y%m%d_%H%M%S", time.localtime())


class BaseRunner:
    """Shared state and services of the training loops (mmcv 1.x's ``BaseRunner``).

    Args:
        model: the model; it implements ``train_step(data_batch, optimizer, **kwargs)`` and
            ``val_step(...)`` returning ``dict(loss, log_vars, num_samples)``.
        batch_processor: deprecated alternative to ``train_step``:
            ``batch_processor(model, data_batch, train_mode) -> dict``.
        optimizer: an optimizer, a dict of them, or ``None``.
        work_dir: where checkpoints and logs go (created).
        logger: defaults to the ``detbox`` logger.
        meta: run information written to the log and checkpoints (``env_info``, ``config``
            text, ``seed``, ``exp_name``); hooks keep state under ``meta['hook_msgs']``.
        max_iters: total training iterations (iteration-based runners).
        max_epochs: total training epochs (epoch-based runners).
    """

    def __init__(self, model: nn.Module, batch_processor: Callable | None = None,
                 optimizer: Optimizer | dict | None = None, work_dir: str | None = None,
                 logger: logging.Logger | None = None, meta: dict | None = None,
                 max_iters: int | None = None, max_epochs: int | None = None) -> None:
        inner = unwrap_model(model)
        if batch_processor is not None:
            if not callable(batch_processor):
                raise TypeError(f"batch_processor must be callable, got {type(batch_processor)}")
            if hasattr(inner, "train_step") or hasattr(inner, "val_step"):
                raise RuntimeError("batch_processor and model.train_step()/val_step() cannot "
                                   "both be given")
        elif not hasattr(model, "train_step"):
            raise TypeError(f"{type(model).__name__} has no train_step(data_batch, optimizer); "
                            f"the runner needs it (or a batch_processor); wrap models for "
                            f"distributed training with DetDistributedDataParallel")
        if isinstance(optimizer, dict):
            for name, optim in optimizer.items():
                if not isinstance(optim, Optimizer):
                    raise TypeError(f"optimizer['{name}'] must be a torch.optim.Optimizer, "
                                    f"got {type(optim)}")
        elif optimizer is not None and not isinstance(optimizer, Optimizer):
            raise TypeError(f"optimizer must be an Optimizer, a dict of them or None, "
                            f"got {type(optimizer)}")
        if logger is None:
            logger = logging.getLogger("detbox")
        if not isinstance(logger, logging.Logger):
            raise TypeError(f"logger must be a logging.Logger, got {type(logger)}")
        if meta is not None and not isinstance(meta, dict):
            raise TypeError(f"meta must be a dict or None, got {type(meta)}")
        if max_epochs is not None and max_iters is not None:
            raise ValueError("only one of max_epochs and max_iters can be set")
        if isinstance(work_dir, (str, os.PathLike)):
            self.work_dir: str | None = os.path.abspath(work_dir)
            os.makedirs(self.work_dir, exist_ok=True)
        elif work_dir is None:
            self.work_dir = None
        else:
            raise TypeError(f"work_dir must be a str or None, got {type(work_dir)}")

        self.model = model
        self.batch_processor = batch_processor
        self.optimizer = optimizer
        self.logger = logger
        self.meta: dict = dict(meta) if meta is not None else {}
        self._model_name = type(inner).__name__
        self._rank, self._world_size = get_dist_info()
        self.timestamp = get_time_str()
        self.mode: str | None = None
        self._hooks: list[Hook] = []
        self._epoch = 0
        self._iter = 0
        self._inner_iter = 0
        self._max_epochs = max_epochs
        self._max_iters = max_iters
        self.log_buffer = LogBuffer()
        self.outputs: dict = {}
        self.data_loader: Any = None
        self.step_context: Callable[[], ContextManager] | None = None
        self.stop_reason: str | None = None
        # state_dict entries of a resumed checkpoint that the model has no slot for yet (EMA
        # buffers that the EMA hook registers in before_run); cleared after before_run.
        self.resumed_extra_state: dict[str, torch.Tensor] = {}

    # ------------------------------------------------------------------ properties
    @property
    def model_name(self) -> str:
        """The model's class name."""
        return self._model_name

    @property
    def rank(self) -> int:
        return self._rank

    @property
    def world_size(self) -> int:
        return self._world_size

    @property
    def hooks(self) -> list[Hook]:
        """Registered hooks, in calling order."""
        return self._hooks

    @property
    def epoch(self) -> int:
        """Finished training epochs."""
        return self._epoch

    @property
    def iter(self) -> int:
        """Finished training iterations."""
        return self._iter

    @property
    def inner_iter(self) -> int:
        """Index of the current batch in the epoch."""
        return self._inner_iter

    @property
    def max_epochs(self) -> int | None:
        return self._max_epochs

    @property
    def max_iters(self) -> int | None:
        return self._max_iters

    @property
    def should_stop(self) -> bool:
        """Whether a hook asked training to end (see :meth:`request_stop`)."""
        return self.stop_reason is not None

    def request_stop(self, reason: str) -> None:
        """Ask the loop to end training after the current epoch (or iteration)."""
        if self.stop_reason is None:
            self.logger.info("stopping training: %s", reason)
            self.stop_reason = reason

    # ------------------------------------------------------------------ loops
    def train(self, data_loader: Any, **kwargs: Any) -> None:
        raise NotImplementedError

    def val(self, data_loader: Any, **kwargs: Any) -> None:
        raise NotImplementedError

    def run(self, data_loaders: list, workflow: list[tuple[str, int]], **kwargs: Any) -> None:
        raise NotImplementedError

    def save_checkpoint(self, out_dir: str, filename_tmpl: str, save_optimizer: bool = True,
                        meta: dict | None = None, create_symlink: bool = True) -> None:
        raise NotImplementedError

    def _check_workflow(self, data_loaders: list, workflow: list) -> None:
        if not isinstance(data_loaders, list):
            raise TypeError(f"data_loaders must be a list, got {type(data_loaders).__name__}")
        if not isinstance(workflow, (list, tuple)) or not all(
                isinstance(f, (tuple, list)) and len(f) == 2 for f in workflow):
            raise TypeError(f"workflow must be a list of (mode, count) tuples, got {workflow!r}")
        if len(data_loaders) != len(workflow):
            raise ValueError(f"workflow {workflow} has {len(workflow)} phases but "
                             f"{len(data_loaders)} data loaders were given")
        for mode, _ in workflow:
            if mode not in ("train", "val"):
                raise ValueError(f"workflow mode must be 'train' or 'val', got {mode!r}")

    def run_iter(self, data_batch: Any, train_mode: bool, **kwargs: Any) -> None:
        """Run one ``train_step``/``val_step`` and put its log_vars in the log buffer."""
        with self.step_context() if self.step_context is not None else nullcontext():
            if self.batch_processor is not None:
                outputs = self.batch_processor(self.model, data_batch, train_mode=train_mode,
                                               **kwargs)
            elif train_mode:
                outputs = self.model.train_step(data_batch, self.optimizer, **kwargs)
            else:
                outputs = self.model.val_step(data_batch, self.optimizer, **kwargs)
        if not isinstance(outputs, dict):
            raise TypeError(f"model.{'train' if train_mode else 'val'}_step() must return a "
                            f"dict(loss, log_vars, num_samples), got {type(outputs).__name__}")
        if "log_vars" in outputs:
            self.log_buffer.update(outputs["log_vars"], outputs.get("num_samples", 1))
        self.outputs = outputs

    def prepare_batch(self, data_batch: Any) -> Any:
        """Move the batch's tensors to the model's device (no-op on CPU)."""
        device = model_device(self.model)
        return data_batch if device.type == "cpu" else move_to_device(data_batch, device)

    def _before_run(self) -> None:
        self.call_hook("before_run")
        self.resumed_extra_state = {}

    # ------------------------------------------------------------------ lr, momentum
    def _per_group(self, value_of: Callable[[dict], float]) -> list | dict:
        if isinstance(self.optimizer, Optimizer):
            return [value_of(g) for g in self.optimizer.param_groups]
        if isinstance(self.optimizer, dict):
            return {name: [value_of(g) for g in optim.param_groups]
                    for name, optim in self.optimizer.items()}
        raise RuntimeError("lr and momentum are not defined: the runner has no optimizer")

    def current_lr(self) -> list[float] | dict[str, list[float]]:
        """Learning rate of every param group (a dict over optimizers for a dict of them)."""
        return self._per_group(lambda g: g["lr"])

    def current_momentum(self) -> list[float] | dict[str, list[float]]:
        """Momentum (or Adam's beta1; 0 without either) of every param group."""
        def momentum(group: dict) -> float:
            if "momentum" in group:
                return group["momentum"]
            if "betas" in group:
                return group["betas"][0]
            return 0
        return self._per_group(momentum)

    # ------------------------------------------------------------------ hooks
    def register_hook(self, hook: Hook, priority: int | str | Priority = "NORMAL") -> None:
        """Insert ``hook`` by ``priority`` (lower runs first; after hooks of equal priority)."""
        if not isinstance(hook, Hook):
            raise TypeError(f"hooks must be Hook instances, got {type(hook).__name__}")
        if hasattr(hook, "priority"):
            raise ValueError(f"{type(hook).__name__} is already registered ('priority' is "
                             f"reserved for the runner)")
        value = get_priority(priority)
        hook.priority = value  # type: ignore[attr-defined]
        for i in range(len(self._hooks) - 1, -1, -1):
            if value >= self._hooks[i].priority:  # type: ignore[attr-defined]
                self._hooks.insert(i + 1, hook)
                return
        self._hooks.insert(0, hook)

    def register_hook_from_cfg(self, hook_cfg: dict) -> Hook:
        """Build ``dict(type=..., priority=..., **args)`` from HOOKS and register it."""
        cfg = dict(hook_cfg)
        priority = cfg.pop("priority", "NORMAL")
        hook = HOOKS.build(cfg)
        self.register_hook(hook, priority=priority)
        return hook

    def call_hook(self, fn_name: str) -> None:
        """Call ``fn_name`` (a stage such as ``'after_train_iter'``) of every hook in order."""
        for hook in self._hooks:
            getattr(hook, fn_name)(self)

    def get_hook_info(self) -> str:
        """The hooks of each stage with their priorities, as logged at the start of ``run``."""
        lines = []
        for stage in Hook.stages:
            entries = []
            for hook in self._hooks:
                if stage in hook.get_triggered_stages():
                    try:
                        name = Priority(hook.priority).name  # type: ignore[attr-defined]
                    except ValueError:
                        name = str(hook.priority)  # type: ignore[attr-defined]
                    entries.append(f"({name:<12}) {type(hook).__name__:<35}")
            if entries:
                lines.append(f"{stage}:\n" + "\n".join(entries) + "\n -------------------- ")
        return "\n".join(lines)

    def _build_policy_hook(self, config: dict | Hook, suffix: str) -> Hook:
        if isinstance(config, Hook):
            return config
        cfg = dict(config)
        section = "lr_config" if suffix == "LrUpdaterHook" else "momentum_config"
        if "policy" not in cfg:
            raise KeyError(f"{section} needs a 'policy' key (such as 'step'), got {config}")
        policy = cfg.pop("policy")
        if policy == policy.lower():
            policy = policy.title()
        cfg["type"] = policy + suffix
        try:
            return HOOKS.build(cfg)
        except UnknownTypeError:
            known = sorted(name[: -len(suffix)] for name in HOOKS.module_dict
                           if name.endswith(suffix))
            raise UnknownTypeError(
                f"{section}: unknown policy '{config['policy']}' (no '{cfg['type']}' in HOOKS); "
                f"known policies: {', '.join(known)}") from None

    def register_lr_hook(self, lr_config: dict | Hook | None) -> None:
        """``lr_config=dict(policy='step', ...)`` -> ``StepLrUpdaterHook`` at VERY_HIGH."""
        if lr_config is not None:
            self.register_hook(self._build_policy_hook(lr_config, "LrUpdaterHook"), "VERY_HIGH")

    def register_momentum_hook(self, momentum_config: dict | Hook | None) -> None:
        """``momentum_config=dict(policy='cyclic')`` -> ``CyclicMomentumUpdaterHook`` (HIGH)."""
        if momentum_config is not None:
            self.register_hook(
                self._build_policy_hook(momentum_config, "MomentumUpdaterHook"), "HIGH")

    def _register_typed(self, config: dict | Hook | None, default_type: str,
                        priority: str) -> None:
        if config is None:
            return
        if isinstance(config, dict):
            cfg = copy.deepcopy(dict(config))
            cfg.setdefault("type", default_type)
            config = HOOKS.build(cfg)
        self.register_hook(config, priority)

    def register_optimizer_hook(self, optimizer_config: dict | Hook | None) -> None:
        self._register_typed(optimizer_config, "OptimizerHook", "ABOVE_NORMAL")

    def register_checkpoint_hook(self, checkpoint_config: dict | Hook | None) -> None:
        self._register_typed(checkpoint_config, "CheckpointHook", "NORMAL")

    def register_timer_hook(self, timer_config: dict | Hook | None) -> None:
        self._register_typed(timer_config, "IterTimerHook", "LOW")

    def register_logger_hooks(self, log_config: dict | None,
                              progress_bar: bool | None = None) -> None:
        """Logger hooks of ``log_config['hooks']`` (VERY_LOW), ``interval`` as their default.

        A progress bar (:class:`~detbox.engine.hooks.ProgressBarHook`) is added too unless
        ``log_config['hooks']`` lists one itself (``dict(type='ProgressBarHook',
        enabled=False)`` turns it off) or ``progress_bar`` is ``False``.
        """
        if log_config is None:
            return
        interval = log_config.get("interval", 10)
        has_bar = False
        for info in log_config.get("hooks", []):
            if isinstance(info, Hook):
                hook = info
            else:
                info = dict(info)
                is_bar = info.get("type") in ("ProgressBarHook", HOOKS.get("ProgressBarHook"))
                hook = HOOKS.build(info, default_args=None if is_bar else dict(interval=interval))
            has_bar = has_bar or type(hook).__name__ == "ProgressBarHook"
            self.register_hook(hook, priority="VERY_LOW")
        if not has_bar and progress_bar is not False and "ProgressBarHook" in HOOKS:
            self.register_hook(HOOKS.build(dict(type="ProgressBarHook")), priority="VERY_LOW")

    def register_custom_hooks(self, custom_config: list | dict | Hook | None) -> None:
        """``custom_hooks``: dicts (``priority`` key, NORMAL by default) or Hook objects."""
        if custom_config is None:
            return
        items = custom_config if isinstance(custom_config, (list, tuple)) else [custom_config]
        for item in items:
            if isinstance(item, dict):
                self.register_hook_from_cfg(item)
            else:
                self.register_hook(item, priority="NORMAL")

    def register_training_hooks(self, lr_config: dict | Hook | None,
                                optimizer_config: dict | Hook | None = None,
                                checkpoint_config: dict | Hook | None = None,
                                log_config: dict | None = None,
                                momentum_config: dict | Hook | None = None,
                                timer_config: dict | Hook | None = None,
                                custom_hooks_config: list | dict | Hook | None = None,
                                progress_bar: bool | None = None) -> None:
        """Register the hooks a config's runtime sections describe (mmcv's priorities).

        =====================  ================  ==========================================
        hook                   priority          from
        =====================  ================  ==========================================
        LrUpdaterHook          VERY_HIGH (10)    ``lr_config`` (``policy`` -> class name)
        MomentumUpdaterHook    HIGH (30)         ``momentum_config``
        OptimizerHook          ABOVE_NORMAL (40) ``optimizer_config`` (or a built hook)
        CheckpointHook         NORMAL (50)       ``checkpoint_config``
        IterTimerHook          LOW (70)          ``timer_config`` (default: IterTimerHook)
        logger hooks           VERY_LOW (90)     ``log_config`` (+ ProgressBarHook)
        custom hooks           NORMAL (50)       ``custom_hooks`` (their ``priority`` key)
        =====================  ================  ==========================================

        Custom hooks with the same priority as a default hook run after it. The config dicts
        are not modified.
        """
        if timer_config is None:
            timer_config = dict(type="IterTimerHook")
        self.register_lr_hook(lr_config)
        self.register_momentum_hook(momentum_config)
        self.register_optimizer_hook(optimizer_config)
        self.register_checkpoint_hook(checkpoint_config)
        self.register_timer_hook(timer_config)
        self.register_logger_hooks(log_config, progress_bar=progress_bar)
        self.register_custom_hooks(custom_hooks_config)

    # ------------------------------------------------------------------ checkpoints
    def _write_checkpoint(self, out_dir: str, filename: str, save_optimizer: bool,
                          meta: dict | None, create_symlink: bool) -> str:
        if meta is None:
            meta = {}
        elif not isinstance(meta, dict):
            raise TypeError(f"meta must be a dict or None, got {type(meta).__name__}")
        meta = dict(meta)
        meta.update(self.meta)
        meta.update(epoch=self.epoch + 1, iter=self.iter)
        filepath = os.path.join(out_dir, filename)
        save_checkpoint(self.model, filepath, self.optimizer if save_optimizer else None, meta)
        if create_symlink:
            link_latest(filepath)
        return filepath

    def load_checkpoint(self, filename: str, map_location: Any = "cpu", strict: bool = False,
                        revise_keys: list | tuple = ((r"^module\.", ""),)) -> dict:
        """Load model weights only (no epoch, iter or optimizer); returns the checkpoint."""
        from ..utils.checkpoint import load_checkpoint

        return load_checkpoint(self.model, filename, map_location, strict, self.logger,
                               revise_keys=revise_keys)

    def resume(self, checkpoint: str, resume_optimizer: bool = True,
               map_location: Any = "cpu") -> None:
        """Continue a run from ``checkpoint``: weights, epoch, iter, optimizer and meta.

        ``meta`` becomes the checkpoint's (``hook_msgs``, fp16 scaler state...), keeping this
        run's ``env_info``, ``config``, ``seed`` and ``exp_name``. The iteration count is
        rescaled when the checkpoint's config ran on a different number of GPUs.

        Args:
            checkpoint: path of the checkpoint.
            resume_optimizer: also restore the optimizer state.
            map_location: ``torch.load``'s; ``'default'`` means the current GPU when there is
                one, else the CPU.
        """
        if map_location == "default":
            map_location = (f"cuda:{torch.cuda.current_device()}" if torch.cuda.is_available()
                            else "cpu")
        ckpt = self._load_for_resume(checkpoint, map_location)
        meta = ckpt.get("meta") or {}
        if "epoch" not in meta or "iter" not in meta:
            raise KeyError(f"{checkpoint} has no meta['epoch']/meta['iter']; it is a weights "
                           f"file, not a training checkpoint: use load_from, not resume_from")
        self._epoch = meta["epoch"]
        self._iter = meta["iter"]
        self._rescale_iter(meta)
        new_meta = dict(meta)
        hook_msgs = dict(self.meta.get("hook_msgs", {}))
        hook_msgs.update(meta.get("hook_msgs", {}))
        new_meta["hook_msgs"] = hook_msgs
        for key in _RUN_META_KEYS:
            if key in self.meta:
                new_meta[key] = self.meta[key]
        self.meta = new_meta
        if "optimizer" in ckpt and resume_optimizer:
            if isinstance(self.optimizer, Optimizer):
                self.optimizer.load_state_dict(ckpt["optimizer"])
            elif isinstance(self.optimizer, dict):
                for name, optim in self.optimizer.items():
                    optim.load_state_dict(ckpt["optimizer"][name])
            else:
                raise TypeError(f"cannot resume the optimizer into {type(self.optimizer)}")
        self.logger.info("resumed epoch %d, iter %d", self.epoch, self.iter)

    def _load_for_resume(self, filename: str, map_location: Any) -> dict:
        from ..utils.checkpoint import load_checkpoint_file, load_state_dict

        ckpt = load_checkpoint_file(filename, map_location)
        if not isinstance(ckpt, dict) or "state_dict" not in ckpt:
            raise RuntimeError(f"{filename} is not a training checkpoint (no 'state_dict')")
        state = OrderedDict((re.sub(r"^module\.", "", k), v) for k, v in ckpt["state_dict"].items())
        model = unwrap_model(self.model)
        own = model.state_dict()
        self.resumed_extra_state = {k: v for k, v in state.items()
                                    if k not in own and k.startswith("ema_")}
        for key in self.resumed_extra_state:
            del state[key]
        metadata = getattr(ckpt["state_dict"], "_metadata", None)
        if metadata is not None:
            state._metadata = metadata
        load_state_dict(model, state, strict=False, logger=self.logger, source=filename)
        return ckpt

    def _rescale_iter(self, meta: dict) -> None:
        if "config" not in meta:
            return
        try:
            from ..config import Config

            gpu_ids = Config.fromstring(meta["config"], ".py").get("gpu_ids")
        except Exception:  # noqa: BLE001 - an unreadable config text only skips the rescale
            return
        if gpu_ids and len(gpu_ids) != self.world_size:
            self._iter = int(self._iter * len(gpu_ids) / self.world_size)
            self.logger.info("the iteration number is changed due to a change of GPU number")
