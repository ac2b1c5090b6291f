"""``ClassAwareSampler``: draw images class by class, so rare classes are seen as often."""

from __future__ import annotations

import math
from typing import Any, Iterator, Sequence

import torch
from torch.utils.data import Sampler

from .samplers import get_dist_info, sync_random_seed

__all__ = ["ClassAwareSampler", "RandomCycleIter"]


class RandomCycleIter:
    """Endless iterator over ``data`` in a fresh random order each pass.

    >>> g = torch.Generator().manual_seed(0)
    >>> it = RandomCycleIter([10, 20, 30], generator=g)
    >>> sorted(next(it) for _ in range(3))
    [10, 20, 30]
    """

    def __init__(self, data: Sequence[Any], generator: torch.Generator | None = None) -> None:
        self.data = data
        self.length = len(data)
        self.generator = generator
        self.index = torch.randperm(self.length, generator=generator).numpy()
        self.i = 0

    def __iter__(self) -> RandomCycleIter:
        return self

    def __len__(self) -> int:
        return len(self.data)

    def __next__(self) -> Any:
        if self.i == self.length:
            self.index = torch.randperm(self.length, generator=self.generator).numpy()
            self.i = 0
        item = self.data[self.index[self.i]]
        self.i += 1
        return item


class ClassAwareSampler(Sampler):
    """v2's class-aware sampling: cycle over classes, take images of each class in turn.

    Per epoch, classes are visited in a shuffled cycle; for each class ``num_sample_class``
    images containing it are drawn from its own shuffled cycle. The length equals the
    dataset's (rounded up to full batches per process).

    Args:
        dataset: a dataset with ``get_cat2imgs()`` (``{label: [image indices]}``).
        samples_per_gpu: batch size per process.
        num_replicas: number of processes (default: the world size).
        rank: this process's rank.
        seed: shuffling seed (with ``epoch`` added; shared by all ranks when ``None``).
        num_sample_class: images drawn per class visit.
    """

    def __init__(self, dataset: Any, samples_per_gpu: int = 1, num_replicas: int | None = None,
                 rank: int | None = None, seed: int | None = 0,
                 num_sample_class: int = 1) -> None:
        _rank, _world = get_dist_info()
        self.num_replicas = _world if num_replicas is None else num_replicas
        self.rank = _rank if rank is None else rank
        self.dataset = dataset
        self.samples_per_gpu = samples_per_gpu
        self.epoch = 0
        self.seed = sync_random_seed(seed)
        if not (isinstance(num_sample_class, int) and num_sample_class > 0):
            raise ValueError(f"num_sample_class must be a positive int, got {num_sample_class!r}")
        self.num_sample_class = num_sample_class
        if not hasattr(dataset, "get_cat2imgs"):
            raise AttributeError(f"{type(dataset).__name__} has no get_cat2imgs(), which "
                                 f"ClassAwareSampler needs")
        self.cat_dict = dataset.get_cat2imgs()
        self.num_samples = int(math.ceil(
            len(dataset) * 1.0 / self.num_replicas / samples_per_gpu)) * samples_per_gpu
        self.total_size = self.num_samples * self.num_replicas
        self.num_cat_imgs = [len(x) for x in self.cat_dict.values()]
        self.valid_cat_inds = [i for i, n in enumerate(self.num_cat_imgs) if n != 0]
        self.num_classes = len(self.valid_cat_inds)
        if self.num_classes == 0:
            raise ValueError("ClassAwareSampler: no class has any image")

    def __iter__(self) -> Iterator[int]:
        g = torch.Generator()
        g.manual_seed(self.epoch + self.seed)
        label_iter = RandomCycleIter(self.valid_cat_inds, generator=g)
        data_iters = {i: RandomCycleIter(self.cat_dict[i], generator=g)
                      for i in self.valid_cat_inds}
        num_bins = int(math.ceil(self.total_size * 1.0 / self.num_classes
                                 / self.num_sample_class))
        indices: list[int] = []
        for _ in range(num_bins):
            for _ in range(len(label_iter)):
                cls_idx = next(label_iter)
                for _ in range(self.num_sample_class):
                    indices.append(next(data_iters[cls_idx]))
        if len(indices) >= self.total_size:
            indices = indices[:self.total_size]
        else:
            indices += indices[:self.total_size - len(indices)]
        offset = self.num_samples * self.rank
        return iter(indices[offset:offset + self.num_samples])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch
