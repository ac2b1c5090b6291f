"""``mmcv.parallel``: the model wrappers of MMDetection scripts, working on CPU too."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from detbox.datasets.collate import collate
from detbox.engine.parallel import (
    DetDistributedDataParallel,
    is_module_wrapper,
    move_to_device,
    unwrap_model,
)

__all__ = ["MMDataParallel", "MMDistributedDataParallel", "collate", "is_module_wrapper",
           "unwrap_model", "scatter"]


class MMDataParallel(nn.DataParallel):
    """mmcv's single-device wrapper: ``model = MMDataParallel(model, device_ids=[0])``.

    Without CUDA the model stays on the CPU and ``device_ids`` is ignored (as mmcv does);
    with CUDA it moves to ``cuda:device_ids[0]`` and each batch follows it. Batches are not
    split (mmcv's ``MMDataParallel`` runs one device too). ``train_step``/``val_step`` go to
    the model.
    """

    def __init__(self, module: nn.Module, device_ids: list[int] | None = None,
                 dim: int = 0, **kwargs: Any) -> None:
        super().__init__(module, device_ids=device_ids[:1] if device_ids else device_ids,
                         dim=dim)
        if self.device_ids:
            self.module.to(f"cuda:{self.device_ids[0]}")

    def _device(self) -> torch.device:
        return torch.device(f"cuda:{self.device_ids[0]}") if self.device_ids else \
            torch.device("cpu")

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        device = self._device()
        return self.module(*move_to_device(list(inputs), device),
                           **move_to_device(kwargs, device))

    def train_step(self, *inputs: Any, **kwargs: Any) -> Any:
        return self.module.train_step(*move_to_device(list(inputs), self._device()), **kwargs)

    def val_step(self, *inputs: Any, **kwargs: Any) -> Any:
        return self.module.val_step(*move_to_device(list(inputs), self._device()), **kwargs)


class MMDistributedDataParallel(DetDistributedDataParallel):
    """mmcv's DistributedDataParallel with ``train_step``/``val_step`` (detbox's)."""


def scatter(inputs: Any, target_gpus: list[int], dim: int = 0) -> list:
    """mmcv's ``scatter`` for one device: the inputs moved to ``cuda:target_gpus[0]`` (or
    left on the CPU for ``[-1]`` / no GPU), as a one-element list."""
    if not target_gpus or target_gpus[0] < 0 or not torch.cuda.is_available():
        return [inputs]
    return [move_to_device(inputs, f"cuda:{target_gpus[0]}")]
