"""Optimizer hooks: backward, gradient clipping and the optimizer step after each iteration.

``optimizer_config = dict(grad_clip=dict(max_norm=35, norm_type=2))`` configures
:class:`OptimizerHook`; ``fp16 = dict(loss_scale=512.)`` in a config switches to
:class:`Fp16OptimizerHook` (see :func:`build_optimizer_hook`).
"""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager
from typing import Any, Iterable

import torch
from torch import nn
from torch.nn.utils import clip_grad_norm_

from ...registry import HOOKS
from ..parallel import model_device, unwrap_model
from .hook import Hook

__all__ = ["OptimizerHook", "GradientCumulativeOptimizerHook", "Fp16OptimizerHook",
           "GradientCumulativeFp16OptimizerHook", "build_optimizer_hook"]


@HOOKS.register_module()
class OptimizerHook(Hook):
    """``zero_grad``, ``loss.backward()``, optional gradient clipping, ``optimizer.step()``.

    Args:
        grad_clip: keyword arguments of ``torch.nn.utils.clip_grad_norm_`` (``max_norm``,
            ``norm_type``...), or ``None`` for no clipping. The total gradient norm (before
            clipping) is logged as ``grad_norm``.
        detect_anomalous_params: log parameters that did not contribute to the loss (slow;
            for debugging).
    """

    def __init__(self, grad_clip: dict | None = None,
                 detect_anomalous_params: bool = False) -> None:
        self.grad_clip = grad_clip
        self.detect_anomalous_params = detect_anomalous_params

    def clip_grads(self, params: Iterable[nn.Parameter]) -> torch.Tensor | None:
        """Clip the gradients of ``params`` in place; the total norm, or None without grads."""
        params = [p for p in params if p.requires_grad and p.grad is not None]
        if params:
            return clip_grad_norm_(params, **self.grad_clip)
        return None

    def _clip_and_log(self, runner: Any) -> None:
        if self.grad_clip is not None:
            grad_norm = self.clip_grads(runner.model.parameters())
            if grad_norm is not None:
                runner.log_buffer.update({"grad_norm": float(grad_norm)},
                                         runner.outputs.get("num_samples", 1))

    def after_train_iter(self, runner: Any) -> None:
        runner.optimizer.zero_grad()
        if self.detect_anomalous_params:
            self.detect_anomalous_parameters(runner.outputs["loss"], runner)
        runner.outputs["loss"].backward()
        self._clip_and_log(runner)
        runner.optimizer.step()

    def detect_anomalous_parameters(self, loss: torch.Tensor, runner: Any) -> None:
        """Log (as errors) trainable parameters that are not in ``loss``'s graph."""
        in_graph: set = set()
        visited: set = set()
        stack = [loss.grad_fn]
        while stack:
            fn = stack.pop()
            if fn is None or fn in visited:
                continue
            visited.add(fn)
            if hasattr(fn, "variable"):
                in_graph.add(fn.variable)
            stack.extend(parent for parent, _ in fn.next_functions)
        for name, param in runner.model.named_parameters():
            if param.requires_grad and param not in in_graph:
                runner.logger.log(logging.ERROR, "%s with shape %s is not in the computational "
                                  "graph", name, tuple(param.size()))


@HOOKS.register_module()
class GradientCumulativeOptimizerHook(OptimizerHook):
    """Step the optimizer every ``cumulative_iters`` iterations with accumulated gradients.

    Each loss is divided by ``cumulative_iters`` (by the number of leftover iterations in a
    last, incomplete group), so 4 iterations of batch 16 approximate one of batch 64 (except
    for BatchNorm statistics).
    """

    def __init__(self, cumulative_iters: int = 1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(cumulative_iters, int) or cumulative_iters <= 0:
            raise ValueError(f"cumulative_iters only accepts positive int, got "
                             f"{cumulative_iters!r}")
        self.cumulative_iters = cumulative_iters
        self.divisible_iters = 0
        self.remainder_iters = 0
        self.initialized = False

    @staticmethod
    def has_batch_norm(module: nn.Module) -> bool:
        return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in module.modules())

    def _init(self, runner: Any) -> None:
        if runner.iter % self.cumulative_iters != 0:
            runner.logger.warning("Resume iter number is not divisible by cumulative_iters in "
                                  "GradientCumulativeOptimizerHook; the gradients of some "
                                  "iterations are lost.")
        if self.has_batch_norm(runner.model) and self.cumulative_iters > 1:
            runner.logger.warning("GradientCumulativeOptimizerHook may slightly decrease "
                                  "performance if the model has BatchNorm layers.")
        self.divisible_iters = runner.max_iters // self.cumulative_iters * self.cumulative_iters
        self.remainder_iters = runner.max_iters - self.divisible_iters
        self.initialized = True

    def _get_loss_factor(self, runner: Any) -> int:
        if runner.iter < runner.max_iters - self.remainder_iters:
            return self.cumulative_iters
        return self.remainder_iters

    def _should_step(self, runner: Any) -> bool:
        return self.every_n_iters(runner, self.cumulative_iters) or self.is_last_iter(runner)

    def after_train_iter(self, runner: Any) -> None:
        if not self.initialized:
            self._init(runner)
        (runner.outputs["loss"] / self._get_loss_factor(runner)).backward()
        if self._should_step(runner):
            self._clip_and_log(runner)
            runner.optimizer.step()
            runner.optimizer.zero_grad()


def _resolve_dtype(dtype: str | torch.dtype | None, device_type: str) -> torch.dtype:
    if dtype is None:
        return torch.float16 if device_type == "cuda" else torch.bfloat16
    if isinstance(dtype, torch.dtype):
        return dtype
    names = {"float16": torch.float16, "fp16": torch.float16, "half": torch.float16,
             "bfloat16": torch.bfloat16, "bf16": torch.bfloat16}
    if dtype not in names:
        raise ValueError(f"fp16 dtype must be one of {sorted(names)}, got {dtype!r}")
    return names[dtype]


@HOOKS.register_module()
class Fp16OptimizerHook(OptimizerHook):
    """Mixed precision: the model's steps run under ``torch.autocast``; with float16 the loss
    is scaled by a ``torch.amp.GradScaler``.

    The autocast dtype defaults to float16 on CUDA and bfloat16 on CPU (no loss scaling is
    needed, or done, for bfloat16). The hook installs ``runner.step_context`` in
    ``before_run`` so the runner enters autocast around ``train_step``/``val_step``, and sets
    ``fp16_enabled = True`` on modules that have that attribute (as mmcv does). The scaler
    state is kept in ``runner.meta['fp16']['loss_scaler']`` (so it is saved in checkpoints) and
    restored from there on resume.

    Args:
        grad_clip: see :class:`OptimizerHook`.
        coalesce: unused (kept for mmcv configs).
        bucket_size_mb: unused (kept for mmcv configs).
        loss_scale: a float (static scale), ``'dynamic'``, or a dict of ``GradScaler``
            arguments (``init_scale``, ``growth_factor``, ``backoff_factor``,
            ``growth_interval``).
        distributed: unused (DDP reduces the gradients).
        dtype: ``'float16'``, ``'bfloat16'`` or ``None`` (by device).
    """

    def __init__(self, grad_clip: dict | None = None, coalesce: bool = True,
                 bucket_size_mb: int = -1, loss_scale: float | str | dict = 512.0,
                 distributed: bool = True, dtype: str | torch.dtype | None = None,
                 **kwargs: Any) -> None:
        super().__init__(grad_clip=grad_clip, **kwargs)
        self.coalesce = coalesce
        self.bucket_size_mb = bucket_size_mb
        self.distributed = distributed
        self.dtype = dtype
        self._scale_update_param: float | None = None
        if loss_scale == "dynamic":
            self._scaler_args: dict = {}
        elif isinstance(loss_scale, (int, float)) and not isinstance(loss_scale, bool):
            self._scale_update_param = float(loss_scale)
            self._scaler_args = dict(init_scale=float(loss_scale))
        elif isinstance(loss_scale, dict):
            self._scaler_args = dict(loss_scale)
        else:
            raise ValueError(f"loss_scale must be of type float, dict, or 'dynamic', got "
                             f"{loss_scale!r}")
        self.loss_scaler: torch.amp.GradScaler | None = None
        self.autocast_dtype: torch.dtype | None = None

    def before_run(self, runner: Any) -> None:
        for module in runner.model.modules():  # as mmcv's wrap_fp16_model
            if hasattr(module, "fp16_enabled"):
                module.fp16_enabled = True
        device_type = model_device(runner.model).type
        self.autocast_dtype = _resolve_dtype(self.dtype, device_type)
        use_scaler = self.autocast_dtype == torch.float16
        self.loss_scaler = torch.amp.GradScaler(device_type, enabled=use_scaler,
                                                **self._scaler_args)
        state = runner.meta.get("fp16", {}).get("loss_scaler")
        if state and use_scaler:
            self.loss_scaler.load_state_dict(state)
        dtype = self.autocast_dtype

        def autocast() -> AbstractContextManager:
            return torch.autocast(device_type=device_type, dtype=dtype)

        runner.step_context = autocast
        runner.logger.info("mixed precision: autocast to %s on %s%s", dtype, device_type,
                           ", loss scaling" if use_scaler else "")

    def _save_scaler(self, runner: Any) -> None:
        runner.meta.setdefault("fp16", {})["loss_scaler"] = self.loss_scaler.state_dict()

    def _unscale_clip_step(self, runner: Any) -> None:
        self.loss_scaler.unscale_(runner.optimizer)
        self._clip_and_log(runner)
        self.loss_scaler.step(runner.optimizer)
        self.loss_scaler.update(self._scale_update_param)
        self._save_scaler(runner)

    def after_train_iter(self, runner: Any) -> None:
        unwrap_model(runner.model).zero_grad()
        runner.optimizer.zero_grad()
        self.loss_scaler.scale(runner.outputs["loss"]).backward()
        self._unscale_clip_step(runner)


@HOOKS.register_module()
class GradientCumulativeFp16OptimizerHook(GradientCumulativeOptimizerHook, Fp16OptimizerHook):
    """:class:`Fp16OptimizerHook` with gradient accumulation over ``cumulative_iters``."""

    def __init__(self, cumulative_iters: int = 1, **kwargs: Any) -> None:
        super().__init__(cumulative_iters=cumulative_iters, **kwargs)

    def after_train_iter(self, runner: Any) -> None:
        if not self.initialized:
            self._init(runner)
        loss = runner.outputs["loss"] / self._get_loss_factor(runner)
        self.loss_scaler.scale(loss).backward()
        if self._should_step(runner):
            self._unscale_clip_step(runner)
            unwrap_model(runner.model).zero_grad()
            runner.optimizer.zero_grad()


def build_optimizer_hook(optimizer_config: dict | Hook | None, fp16_cfg: dict | None = None,
                         distributed: bool = False) -> dict | Hook | None:
    """The optimizer hook for a config's ``optimizer_config`` and ``fp16`` sections.

    Without ``fp16`` (or with ``fp16=dict(enabled=False)``), ``optimizer_config`` is returned
    for ``register_training_hooks`` to build (an ``OptimizerHook`` unless it names a type).
    With ``fp16``, an :class:`Fp16OptimizerHook` (or :class:`GradientCumulativeFp16OptimizerHook`
    when ``optimizer_config`` asks for gradient accumulation) is built with both sections'
    arguments.

    Args:
        optimizer_config: ``dict(grad_clip=None)`` and the like.
        fp16_cfg: ``dict(loss_scale=512.)``, ``dict(loss_scale='dynamic', dtype='bfloat16')``...
        distributed: passed to the fp16 hook.
    """
    fp16 = dict(fp16_cfg) if fp16_cfg is not None else None
    if fp16 is not None and not fp16.pop("enabled", True):
        fp16 = None
    if fp16 is None or isinstance(optimizer_config, Hook):
        if fp16 is not None:
            raise TypeError("fp16 needs optimizer_config as a dict, not a built hook")
        return optimizer_config
    cfg = dict(optimizer_config or {})
    hook_type = cfg.pop("type", "OptimizerHook")
    if hook_type in ("GradientCumulativeOptimizerHook", "GradientCumulativeFp16OptimizerHook"):
        fp16_type = "GradientCumulativeFp16OptimizerHook"
    elif hook_type in ("OptimizerHook", "Fp16OptimizerHook"):
        fp16_type = "Fp16OptimizerHook"
    else:
        raise ValueError(f"fp16 is set but optimizer_config.type is '{hook_type}'; fp16 works "
                         f"with OptimizerHook and GradientCumulativeOptimizerHook")
    return HOOKS.build(dict(type=fp16_type, **cfg, **fp16, distributed=distributed))
