"""Random seeds: one seed for Python, NumPy and torch, shared by every process."""

from __future__ import annotations

import os
import random

import numpy as np
import torch
import torch.distributed as dist

from .dist import get_dist_info

__all__ = ["set_random_seed", "init_random_seed"]


def set_random_seed(seed: int, deterministic: bool = False) -> None:
    """Seed ``random``, NumPy and torch (CPU and every GPU).

    Args:
        seed: the seed.
        deterministic: also ask torch for deterministic kernels
            (``torch.use_deterministic_algorithms(True, warn_only=True)``, cuDNN deterministic,
            no cuDNN benchmark, and ``CUBLAS_WORKSPACE_CONFIG`` set if unset); slower.
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
        torch.use_deterministic_algorithms(True, warn_only=True)


def init_random_seed(seed: int | None = None, device: str | None = None) -> int:
    """``seed`` if given, else a random one that rank 0 draws and broadcasts to all ranks.

    Args:
        seed: a fixed seed, returned as is.
        device: where the broadcast tensor lives; ``None`` picks ``'cuda'`` for the nccl
            backend and ``'cpu'`` otherwise.
    """
    if seed is not None:
        return seed
    seed = int(np.random.randint(2**31))
    rank, world_size = get_dist_info()
    if world_size == 1:
        return seed
    if device is None:
        device = "cuda" if dist.get_backend() == "nccl" else "cpu"
    value = torch.tensor(seed if rank == 0 else 0, dtype=torch.int32, device=device)
    dist.broadcast(value, src=0)
    return int(value.item())
