"""Model wrappers: unwrapping (Distributed)DataParallel, moving batches to the model's device,
and a DistributedDataParallel that keeps MMDetection's ``train_step``/``val_step`` interface.
"""

from __future__ import annotations

import os
from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

__all__ = ["is_module_wrapper", "unwrap_model", "move_to_device", "model_device",
           "DetDistributedDataParallel", "build_ddp"]


def is_module_wrapper(module: Any) -> bool:
    """Whether ``module`` is a ``DataParallel``/``DistributedDataParallel`` wrapper."""
    return isinstance(module, (nn.DataParallel, DistributedDataParallel))


def unwrap_model(model: nn.Module) -> nn.Module:
    """The model inside any (nested) DataParallel/DistributedDataParallel wrappers."""
    while is_module_wrapper(model):
        model = model.module
    return model


def model_device(model: nn.Module) -> torch.device:
    """The device of the model's first parameter (or buffer); CPU for an empty model."""
    for tensor in model.parameters():
        return tensor.device
    for tensor in model.buffers():
        return tensor.device
    return torch.device("cpu")


def move_to_device(data: Any, device: torch.device | str) -> Any:
    """``data`` with every tensor inside dicts, lists and tuples moved to ``device``.

    Other values (image meta dicts of numbers and arrays, strings) are returned as they are.
    """
    if isinstance(data, torch.Tensor):
        return data.to(device, non_blocking=True)
    if isinstance(data, dict):
        return {k: move_to_device(v, device) for k, v in data.items()}
    if isinstance(data, list):
        return [move_to_device(v, device) for v in data]
    if isinstance(data, tuple) and not hasattr(data, "_fields"):
        return tuple(move_to_device(v, device) for v in data)
    return data


class DetDistributedDataParallel(DistributedDataParallel):
    """DistributedDataParallel whose ``train_step``/``val_step`` go through DDP's forward.

    DDP only synchronises gradients of computations run through its own ``__call__``; the
    detector's ``train_step(data_batch, optimizer)`` is routed through it by temporarily
    presenting ``train_step`` as the wrapped module's forward for exactly one call.
    """

    def _call_as_forward(self, name: str, *args: Any, **kwargs: Any) -> Any:
        module = self.module
        method = getattr(module, name)

        def step(*a: Any, **k: Any) -> Any:
            del module.forward  # the step itself calls the real forward
            return method(*a, **k)

        module.forward = step
        try:
            return self(*args, **kwargs)
        finally:
            module.__dict__.pop("forward", None)

    def train_step(self, *args: Any, **kwargs: Any) -> Any:
        """``module.train_step`` with DDP's gradient synchronisation."""
        return self._call_as_forward("train_step", *args, **kwargs)

    def val_step(self, *args: Any, **kwargs: Any) -> Any:
        """``module.val_step`` through DDP's forward."""
        return self._call_as_forward("val_step", *args, **kwargs)


def build_ddp(model: nn.Module, device: str | torch.device | None = None,
              **kwargs: Any) -> DetDistributedDataParallel:
    """Move ``model`` to this process's device and wrap it for distributed training.

    Args:
        model: the detector.
        device: ``'cuda'`` (the GPU ``LOCAL_RANK``), ``'cpu'``, or ``None`` for CUDA when
            available.
        **kwargs: DDP options (``find_unused_parameters``, ``broadcast_buffers``...).
    """
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(device)
    if device.type == "cuda":
        local_rank = int(os.environ.get("LOCAL_RANK", torch.cuda.current_device()))
        model = model.to(f"cuda:{local_rank}")
        kwargs.setdefault("device_ids", [local_rank])
        kwargs.setdefault("output_device", local_rank)
    else:
        model = model.to(device)
    return DetDistributedDataParallel(model, **kwargs)
