"""Distributed helpers: process-group setup, rank queries, rank-0-only functions."""

from __future__ import annotations

import functools
import logging
import os
import socket
import subprocess
from typing import Any, Callable, Iterable

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

__all__ = ["get_dist_info", "init_dist", "master_only", "allreduce_params", "is_distributed",
           "default_backend"]

_LOGGER = logging.getLogger(__name__)


def is_distributed() -> bool:
    """Whether a default process group is initialised."""
    return dist.is_available() and dist.is_initialized()


def get_dist_info() -> tuple[int, int]:
    """``(rank, world_size)``; ``(0, 1)`` without a process group."""
    if is_distributed():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def default_backend() -> str:
    """``'nccl'`` when CUDA is available, else ``'gloo'``."""
    return "nccl" if torch.cuda.is_available() else "gloo"


def _resolve_backend(backend: str | None) -> str:
    if backend is None:
        return default_backend()
    if backend == "nccl" and not torch.cuda.is_available():
        _LOGGER.warning("backend 'nccl' needs CUDA, which is not available; using 'gloo'")
        return "gloo"
    return backend


def init_dist(launcher: str, backend: str | None = None, **kwargs: Any) -> None:
    """Initialise the default process group.

    Args:
        launcher: ``'pytorch'`` (``torchrun``: ``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``,
            ``MASTER_ADDR``, ``MASTER_PORT`` in the environment), ``'slurm'`` (``srun``) or
            ``'mpi'`` (OpenMPI's ``OMPI_COMM_WORLD_*``).
        backend: ``'nccl'``, ``'gloo'``...; ``None`` picks nccl with CUDA, gloo without (a
            config's ``dist_params = dict(backend='nccl')`` falls back to gloo on CPU).
        **kwargs: passed to ``torch.distributed.init_process_group`` (``port`` for slurm).
    """
    if mp.get_start_method(allow_none=True) is None:
        mp.set_start_method("spawn")
    backend = _resolve_backend(backend)
    if launcher == "pytorch":
        _init_pytorch(backend, **kwargs)
    elif launcher == "slurm":
        _init_slurm(backend, **kwargs)
    elif launcher == "mpi":
        _init_mpi(backend, **kwargs)
    else:
        raise ValueError(f"invalid launcher '{launcher}'; use 'pytorch', 'slurm' or 'mpi'")


def _set_cuda_device(local_rank: int) -> None:
    if torch.cuda.is_available():
        torch.cuda.set_device(local_rank % torch.cuda.device_count())


def _require_env(*names: str) -> None:
    missing = [n for n in names if n not in os.environ]
    if missing:
        raise KeyError(f"environment variable(s) {', '.join(missing)} not set; start the job "
                       f"with torchrun (launcher 'pytorch'), srun ('slurm') or mpirun ('mpi')")


def _init_pytorch(backend: str, **kwargs: Any) -> None:
    _require_env("RANK", "WORLD_SIZE")
    rank = int(os.environ["RANK"])
    _set_cuda_device(int(os.environ.get("LOCAL_RANK", rank)))
    dist.init_process_group(backend=backend, **kwargs)


def _init_mpi(backend: str, **kwargs: Any) -> None:
    _require_env("OMPI_COMM_WORLD_LOCAL_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK",
                 "MASTER_ADDR")
    _set_cuda_device(int(os.environ["OMPI_COMM_WORLD_LOCAL_RANK"]))
    os.environ.setdefault("MASTER_PORT", "29500")
    os.environ["WORLD_SIZE"] = os.environ["OMPI_COMM_WORLD_SIZE"]
    os.environ["RANK"] = os.environ["OMPI_COMM_WORLD_RANK"]
    dist.init_process_group(backend=backend, **kwargs)


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("localhost", port)) != 0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("", 0))
        return sock.getsockname()[1]


def _init_slurm(backend: str, port: int | None = None) -> None:
    _require_env("SLURM_PROCID", "SLURM_NTASKS", "SLURM_NODELIST")
    proc_id = int(os.environ["SLURM_PROCID"])
    ntasks = int(os.environ["SLURM_NTASKS"])
    node_list = os.environ["SLURM_NODELIST"]
    num_gpus = max(torch.cuda.device_count(), 1)
    _set_cuda_device(proc_id)
    if port is not None:
        os.environ["MASTER_PORT"] = str(port)
    elif "MASTER_PORT" not in os.environ:
        os.environ["MASTER_PORT"] = "29500" if _port_is_free(29500) else str(_free_port())
    if "MASTER_ADDR" not in os.environ:
        os.environ["MASTER_ADDR"] = subprocess.getoutput(
            f"scontrol show hostname {node_list} | head -n1")
    os.environ["WORLD_SIZE"] = str(ntasks)
    os.environ["LOCAL_RANK"] = str(proc_id % num_gpus)
    os.environ["RANK"] = str(proc_id)
    dist.init_process_group(backend=backend)


def master_only(func: Callable) -> Callable:
    """Decorate ``func`` to run on rank 0 only (other ranks get ``None``)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        rank, _ = get_dist_info()
        if rank == 0:
            return func(*args, **kwargs)
        return None

    return wrapper


def allreduce_params(params: Iterable[torch.Tensor]) -> None:
    """Average tensors (parameters or buffers) over all processes, in place (integer ones floor)."""
    rank, world_size = get_dist_info()
    if world_size == 1:
        return
    for tensor in params:
        if tensor.is_floating_point():
            dist.all_reduce(tensor.data.div_(world_size))
        else:  # counters such as BN's num_batches_tracked
            dist.all_reduce(tensor.data)
            tensor.data.floor_divide_(world_size)
