"""Samplers of MMDetection v2: aspect-ratio groups, distributed shards, infinite batches.

``GroupSampler`` draws from numpy's global random state (seed it, as ``tools/train.py``
does); the others use a ``torch.Generator`` seeded with ``seed`` (+ ``epoch``), so every
rank of a distributed run draws the same permutation and takes its own shard.
"""

from __future__ import annotations

import itertools
import math
from typing import Any, Iterator

import numpy as np
import torch
import torch.distributed as dist
from torch.utils.data import DistributedSampler as _TorchDistributedSampler
from torch.utils.data import Sampler

__all__ = ["GroupSampler", "DistributedGroupSampler", "DistributedSampler",
           "InfiniteGroupBatchSampler", "InfiniteBatchSampler", "get_dist_info",
           "sync_random_seed"]


def get_dist_info() -> tuple[int, int]:
    """``(rank, world_size)`` of this process; ``(0, 1)`` outside distributed runs."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def sync_random_seed(seed: int | None = None) -> int:
    """``seed``, or a random one drawn by rank 0 and shared with every rank when ``None``."""
    if seed is None:
        seed = int(np.random.randint(2**31))
    if not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int or None, got {seed!r}")
    rank, world_size = get_dist_info()
    if world_size == 1:
        return int(seed)
    value = torch.tensor(int(seed) if rank == 0 else 0, dtype=torch.int32)
    dist.broadcast(value, src=0)
    return int(value.item())


def _flag(dataset: Any) -> np.ndarray:
    if not hasattr(dataset, "flag"):
        raise AttributeError(f"{type(dataset).__name__} has no 'flag' (aspect-ratio groups) "
                             f"needed by the group samplers")
    return np.asarray(dataset.flag).astype(np.int64)


class GroupSampler(Sampler):
    """Shuffled indices in batches of ``samples_per_gpu`` from one aspect-ratio group each.

    Each group is shuffled and padded (with random repeats of its own images) to a multiple
    of ``samples_per_gpu``; the batches are then shuffled. Length: the padded total.

    Args:
        dataset: a dataset with ``flag`` (``uint8[N]`` group of each image).
        samples_per_gpu: batch size.
    """

    def __init__(self, dataset: Any, samples_per_gpu: int = 1) -> None:
        self.dataset = dataset
        self.samples_per_gpu = samples_per_gpu
        self.flag = _flag(dataset)
        self.group_sizes = np.bincount(self.flag)
        self.num_samples = sum(int(np.ceil(size / samples_per_gpu)) * samples_per_gpu
                               for size in self.group_sizes)

    def __iter__(self) -> Iterator[int]:
        spg = self.samples_per_gpu
        indices = []
        for i, size in enumerate(self.group_sizes):
            if size == 0:
                continue
            group = np.where(self.flag == i)[0]
            np.random.shuffle(group)
            extra = int(np.ceil(size / spg)) * spg - len(group)
            indices.append(np.concatenate([group, np.random.choice(group, extra)]))
        if not indices:
            return iter([])
        flat = np.concatenate(indices)
        batches = [flat[i * spg:(i + 1) * spg]
                   for i in np.random.permutation(range(len(flat) // spg))]
        out = np.concatenate(batches).astype(np.int64).tolist()
        assert len(out) == self.num_samples
        return iter(out)

    def __len__(self) -> int:
        return self.num_samples


class DistributedGroupSampler(Sampler):
    """:class:`GroupSampler` split across ``num_replicas`` processes; call ``set_epoch``.

    Args:
        dataset: a dataset with ``flag``.
        samples_per_gpu: batch size per process.
        num_replicas: number of processes (default: the world size).
        rank: this process's rank (default: the current rank).
        seed: base of the per-epoch shuffling seed (``None`` means 0).
    """

    def __init__(self, dataset: Any, samples_per_gpu: int = 1, num_replicas: int | None = None,
                 rank: int | None = None, seed: int | None = 0) -> None:
        _rank, _world = get_dist_info()
        self.num_replicas = _world if num_replicas is None else num_replicas
        self.rank = _rank if rank is None else rank
        self.dataset = dataset
        self.samples_per_gpu = samples_per_gpu
        self.epoch = 0
        self.seed = seed if seed is not None else 0
        self.flag = _flag(dataset)
        self.group_sizes = np.bincount(self.flag)
        self.num_samples = sum(
            int(math.ceil(size * 1.0 / samples_per_gpu / self.num_replicas)) * samples_per_gpu
            for size in self.group_sizes)
        self.total_size = self.num_samples * self.num_replicas

    def __iter__(self) -> Iterator[int]:
        g = torch.Generator()
        g.manual_seed(self.epoch + self.seed)
        spg, reps = self.samples_per_gpu, self.num_replicas
        indices: list[int] = []
        for i, size in enumerate(self.group_sizes):
            if size == 0:
                continue
            group = np.where(self.flag == i)[0]
            group = group[torch.randperm(int(size), generator=g).numpy()].tolist()
            extra = int(math.ceil(size * 1.0 / spg / reps)) * spg * reps - len(group)
            padded = list(group)
            for _ in range(extra // size):
                padded.extend(group)
            padded.extend(group[:extra % size])
            indices.extend(padded)
        assert len(indices) == self.total_size
        order = torch.randperm(len(indices) // spg, generator=g).tolist()
        indices = [indices[j] for b in order for j in range(b * spg, (b + 1) * spg)]
        offset = self.num_samples * self.rank
        return iter(indices[offset:offset + self.num_samples])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch


class DistributedSampler(_TorchDistributedSampler):
    """torch's ``DistributedSampler`` with v2's seed (shared by all ranks when ``None``).

    Args:
        dataset: the dataset.
        num_replicas: number of processes (default: the world size).
        rank: this process's rank.
        shuffle: shuffle (with ``seed + epoch``) or keep the order.
        seed: shuffling seed.
    """

    def __init__(self, dataset: Any, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int | None = 0) -> None:
        _rank, _world = get_dist_info()
        super().__init__(dataset, num_replicas=_world if num_replicas is None else num_replicas,
                         rank=_rank if rank is None else rank, shuffle=shuffle)
        self.seed = sync_random_seed(seed)

    def __iter__(self) -> Iterator[int]:
        if self.shuffle:
            g = torch.Generator()
            g.manual_seed(self.epoch + self.seed)
            indices = torch.randperm(len(self.dataset), generator=g).tolist()
        else:
            indices = list(range(len(self.dataset)))
        # pad by repeating the list so every rank gets the same number of samples
        indices = (indices * math.ceil(self.total_size / len(indices)))[:self.total_size]
        assert len(indices) == self.total_size
        return iter(indices[self.rank:self.total_size:self.num_replicas])


class _InfiniteBase(Sampler):
    def __init__(self, dataset: Any, batch_size: int = 1, world_size: int | None = None,
                 rank: int | None = None, seed: int | None = 0, shuffle: bool = True) -> None:
        _rank, _world = get_dist_info()
        self.rank = _rank if rank is None else rank
        self.world_size = _world if world_size is None else world_size
        self.dataset = dataset
        self.batch_size = batch_size
        self.seed = sync_random_seed(seed)
        self.shuffle = shuffle
        self.size = len(dataset)
        self.indices = self._indices_of_rank()

    def _infinite_indices(self) -> Iterator[int]:
        g = torch.Generator()
        g.manual_seed(self.seed)
        while True:
            if self.shuffle:
                yield from torch.randperm(self.size, generator=g).tolist()
            else:
                yield from range(self.size)

    def _indices_of_rank(self) -> Iterator[int]:
        yield from itertools.islice(self._infinite_indices(), self.rank, None, self.world_size)

    def __len__(self) -> int:
        """The dataset's length (the sampler itself never ends)."""
        return self.size

    def set_epoch(self, epoch: int) -> None:
        raise NotImplementedError(f"{type(self).__name__} has no epochs (iteration-based runner)")


class InfiniteGroupBatchSampler(_InfiniteBase):
    """Endless batches of indices, each batch from one aspect-ratio group (iteration runners).

    Args:
        dataset: a dataset with ``flag``.
        batch_size: indices per batch.
        world_size: number of processes (default: the world size).
        rank: this process's rank; it takes every ``world_size``-th index of the stream.
        seed: seed of the endless shuffled stream (shared by all ranks when ``None``).
        shuffle: shuffle each pass over the dataset.
    """

    def __init__(self, dataset: Any, batch_size: int = 1, world_size: int | None = None,
                 rank: int | None = None, seed: int | None = 0, shuffle: bool = True) -> None:
        super().__init__(dataset, batch_size, world_size, rank, seed, shuffle)
        self.flag = _flag(dataset)
        self.group_sizes = np.bincount(self.flag)
        self.buffer_per_group: dict[int, list[int]] = {k: [] for k in range(len(self.group_sizes))}

    def __iter__(self) -> Iterator[list[int]]:
        for idx in self.indices:
            buffer = self.buffer_per_group[int(self.flag[idx])]
            buffer.append(idx)
            if len(buffer) == self.batch_size:
                yield buffer[:]
                del buffer[:]


class InfiniteBatchSampler(_InfiniteBase):
    """Endless batches of indices in stream order (iteration runners without grouping).

    Arguments are :class:`InfiniteGroupBatchSampler`'s (``dataset`` needs no ``flag``).
    """

    def __iter__(self) -> Iterator[list[int]]:
        batch: list[int] = []
        for idx in self.indices:
            batch.append(idx)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
