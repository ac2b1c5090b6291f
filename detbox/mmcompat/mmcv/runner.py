"""``mmcv.runner``: modules with ``init_cfg``, precision decorators, checkpoints, hooks,
optimizers, runners and distributed helpers."""

from __future__ import annotations

import functools
from typing import Any, Callable

from torch import nn

from detbox.engine import (
    HOOKS,
    BaseRunner,
    DefaultOptimizerConstructor,
    EpochBasedRunner,
    Hook,
    IterBasedRunner,
    LogBuffer,
    build_optimizer,
    build_runner,
    get_dist_info,
    init_dist,
    master_only,
    save_checkpoint,
)
from detbox.models.base_module import BaseModule, ModuleDict, ModuleList, Sequential
from detbox.models.utils import force_fp32 as _force_fp32
from detbox.registry import OPTIMIZER_BUILDERS, OPTIMIZERS, RUNNERS
from detbox.utils.checkpoint import load_checkpoint, load_state_dict
from detbox.utils.checkpoint import load_checkpoint_file as _load_checkpoint

__all__ = [
    "BaseModule", "ModuleList", "Sequential", "ModuleDict", "auto_fp16", "force_fp32",
    "wrap_fp16_model", "load_checkpoint", "load_state_dict", "_load_checkpoint",
    "save_checkpoint", "get_dist_info", "init_dist", "master_only", "HOOKS", "Hook",
    "build_optimizer", "build_runner", "BaseRunner", "EpochBasedRunner", "IterBasedRunner",
    "DefaultOptimizerConstructor", "OPTIMIZERS", "OPTIMIZER_BUILDERS", "RUNNERS", "LogBuffer",
]


def __getattr__(name: str) -> Any:
    """Hooks by their mmcv names (``OptimizerHook``, ``Fp16OptimizerHook``,
    ``CheckpointHook``, ``EMAHook``, ...): whatever detbox's ``HOOKS`` registry holds."""
    cls = HOOKS.get(name)
    if cls is None:
        raise AttributeError(name)
    return cls


def auto_fp16(apply_to: Any = None, out_fp32: bool = False,
              supports_fp16: bool = False) -> Callable:
    """mmcv's ``@auto_fp16(...)``. detbox runs mixed precision through ``torch.autocast``
    (``fp16 = dict(...)`` in a config), which already casts the convolutions of a decorated
    ``forward``; the decorator therefore leaves the call as it is."""

    def decorator(func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return func(*args, **kwargs)

        return wrapper

    return decorator


def force_fp32(apply_to: Any = None, out_fp16: bool = False) -> Callable:
    """mmcv's ``@force_fp32(apply_to=...)``: the decorated method runs in float32 with
    autocast off (detbox's :func:`detbox.models.utils.force_fp32`). Also works bare
    (``@force_fp32``)."""
    if callable(apply_to) and not isinstance(apply_to, (tuple, list, str)):
        return _force_fp32(apply_to)
    return _force_fp32


def wrap_fp16_model(model: nn.Module) -> None:
    """mmcv converts the model to half; detbox uses autocast instead, so this only marks the
    modules that check ``fp16_enabled``."""
    for module in model.modules():
        if hasattr(module, "fp16_enabled"):
            module.fp16_enabled = True
