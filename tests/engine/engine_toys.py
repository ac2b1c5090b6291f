"""Toy models, loaders and hooks for the engine tests (no detection models involved)."""

from __future__ import annotations

import logging
from collections import OrderedDict

import torch
from torch import nn

from detbox.engine import EpochBasedRunner, IterBasedRunner
from detbox.engine.hooks import Hook

LOGGER = logging.getLogger("detbox.test_engine")


class ToyModel(nn.Module):
    """``y = fc(relu(bn(conv(x))).mean(HW))``; the loss is the MSE to the batch's target."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 1)
        self.bn = nn.BatchNorm2d(2)
        self.fc = nn.Linear(2, 1)
        self.train_calls = 0
        self.val_calls = 0
        self.grad_enabled_in_val: list[bool] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.relu(self.bn(self.conv(x))).mean(dim=(2, 3)))

    def _losses(self, data: dict) -> dict:
        pred = self(data["x"])
        loss = ((pred.float() - data["y"]) ** 2).mean()
        return dict(loss=loss, log_vars=OrderedDict(loss=loss.item()),
                    num_samples=data["x"].shape[0])

    def train_step(self, data: dict, optimizer: object = None) -> dict:
        self.train_calls += 1
        return self._losses(data)

    def val_step(self, data: dict, optimizer: object = None) -> dict:
        self.val_calls += 1
        self.grad_enabled_in_val.append(torch.is_grad_enabled())
        return self._losses(data)


def toy_batches(n: int, batch: int = 2, seed: int = 0) -> list[dict]:
    """``n`` fixed batches ``{'x': [B, 1, 3, 3], 'y': [B, 1]}`` (a list works as a loader)."""
    gen = torch.Generator().manual_seed(seed)
    return [dict(x=torch.randn(batch, 1, 3, 3, generator=gen),
                 y=torch.randn(batch, 1, generator=gen)) for _ in range(n)]


class Recorder(Hook):
    """Records what ``fn(runner)`` returns at ``stage``."""

    def __init__(self, stage: str, fn) -> None:
        self.stage = stage
        self.fn = fn
        self.values: list = []
        setattr(self, stage, self._record)

    def _record(self, runner) -> None:
        self.values.append(self.fn(runner))


def make_runner(kind: str = "epoch", model: nn.Module | None = None, lr: float = 0.1,
                optimizer: str = "SGD", work_dir=None, meta=None, **kwargs):
    """A runner over a ToyModel (or ``model``) with an SGD optimizer of ``lr``."""
    model = model if model is not None else ToyModel()
    if optimizer == "SGD":
        optim = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    else:
        optim = torch.optim.Adam(model.parameters(), lr=lr)
    cls = EpochBasedRunner if kind == "epoch" else IterBasedRunner
    return cls(model, optimizer=optim, work_dir=work_dir, logger=LOGGER, meta=meta, **kwargs)


def dist_worker(rank: int, world_size: int, port: int, out_dir: str) -> None:
    """One process of the 2-process test in test_engine_dist.py (gloo on CPU)."""
    import json
    import os

    import torch.distributed as dist

    from detbox.engine import (
        allreduce_params,
        build_ddp,
        get_dist_info,
        init_dist,
        init_random_seed,
        master_only,
    )

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      WORLD_SIZE=str(world_size), LOCAL_RANK=str(rank))
    torch.set_num_threads(1)
    init_dist("pytorch", backend="nccl")  # no CUDA here: falls back to gloo

    class Dot(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = nn.Parameter(torch.ones(2))
            self.register_buffer("stat", torch.full((2,), float(rank)))
            self.register_buffer("count", torch.tensor(rank + 1))

        def forward(self, x):
            return (self.w * x).sum()

        def train_step(self, data, optimizer=None):
            loss = self(data)
            return dict(loss=loss, log_vars=dict(loss=loss.item()), num_samples=1)

    model = build_ddp(Dot(), "cpu")
    out = model.train_step(torch.tensor([1.0, 2.0]) * (rank + 1))
    out["loss"].backward()
    model.module.stat.fill_(float(rank))  # DDP broadcast rank 0's buffers; make them differ
    model.module.count.fill_(rank + 1)
    allreduce_params(model.module.buffers())
    result = dict(
        dist_info=list(get_dist_info()), backend=dist.get_backend(),
        seed=init_random_seed(), grad=model.module.w.grad.tolist(),
        stat=model.module.stat.tolist(), count=int(model.module.count),
        master=master_only(lambda: "ran")())
    with open(os.path.join(out_dir, f"{rank}.json"), "w") as f:
        json.dump(result, f)
    # Both ranks reach the barrier before either tears gloo down; without it a rank that
    # leaves first can abort its peer's pending work ("terminate called without an active
    # exception", SIGABRT) on a loaded machine.
    dist.barrier()
    dist.destroy_process_group()
