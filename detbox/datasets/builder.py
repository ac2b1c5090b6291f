"""``build_dataset`` and ``build_dataloader`` with MMDetection v2's rules."""

from __future__ import annotations

import copy
import random
from functools import partial
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

from ..registry import DATASETS, PIPELINES
from .class_aware_sampler import ClassAwareSampler
from .collate import collate
from .samplers import (
    DistributedGroupSampler,
    DistributedSampler,
    GroupSampler,
    InfiniteBatchSampler,
    InfiniteGroupBatchSampler,
    get_dist_info,
)
from .wrappers import ClassBalancedDataset, ConcatDataset, MultiImageMixDataset, RepeatDataset

__all__ = ["build_dataset", "build_dataloader", "worker_init_fn", "DATASETS", "PIPELINES"]


def _is(type_: Any, cls: type) -> bool:
    return type_ == cls.__name__ or type_ is cls


def _concat_dataset(cfg: dict, default_args: dict | None = None) -> ConcatDataset:
    """One dataset per ``ann_file`` of a list; list-valued prefixes are matched by position."""
    ann_files = cfg["ann_file"]
    per_item = {key: cfg.get(key) for key in ("img_prefix", "seg_prefix", "proposal_file")}
    for key, value in per_item.items():
        if isinstance(value, (list, tuple)) and len(value) != len(ann_files):
            raise ValueError(f"dataset config: {key} has {len(value)} entries but ann_file has "
                             f"{len(ann_files)}")
    datasets = []
    for i, ann_file in enumerate(ann_files):
        data_cfg = copy.deepcopy(cfg)
        data_cfg.pop("separate_eval", None)
        data_cfg["ann_file"] = ann_file
        for key, value in per_item.items():
            if isinstance(value, (list, tuple)):
                data_cfg[key] = value[i]
        datasets.append(build_dataset(data_cfg, default_args))
    return ConcatDataset(datasets, cfg.get("separate_eval", True))


def build_dataset(cfg: dict | list, default_args: dict | None = None) -> Any:
    """Build a dataset (or a wrapper of datasets) from its config.

    As in v2: a list of configs, ``ConcatDataset``, ``RepeatDataset``,
    ``ClassBalancedDataset`` and ``MultiImageMixDataset`` build their inner datasets
    recursively, and a dataset whose ``ann_file`` is a list becomes a ``ConcatDataset`` of
    one dataset per file (with ``img_prefix``/``seg_prefix``/``proposal_file`` lists matched
    by position).

    Args:
        cfg: the dataset config (``data.train``...).
        default_args: arguments the config does not set (``dict(test_mode=True)``).
    """
    if isinstance(cfg, (list, tuple)):
        return ConcatDataset([build_dataset(c, default_args) for c in cfg])
    if not isinstance(cfg, dict):
        raise TypeError(f"a dataset config must be a dict or a list of dicts, got {cfg!r}")
    if "skip_invalid_images" in cfg:  # read by the data check (datasets/data_check.py)
        cfg = {k: v for k, v in cfg.items() if k != "skip_invalid_images"}
    type_ = cfg.get("type")
    if _is(type_, ConcatDataset):
        return ConcatDataset([build_dataset(c, default_args) for c in cfg["datasets"]],
                             cfg.get("separate_eval", True))
    if _is(type_, RepeatDataset):
        return RepeatDataset(build_dataset(cfg["dataset"], default_args), cfg["times"])
    if _is(type_, ClassBalancedDataset):
        return ClassBalancedDataset(build_dataset(cfg["dataset"], default_args),
                                    cfg["oversample_thr"], cfg.get("filter_empty_gt", True))
    if _is(type_, MultiImageMixDataset):
        args = copy.deepcopy(dict(cfg))
        args.pop("type")
        args["dataset"] = build_dataset(args["dataset"])
        return MultiImageMixDataset(**args)
    if isinstance(cfg.get("ann_file"), (list, tuple)):
        return _concat_dataset(cfg, default_args)
    return DATASETS.build(cfg, default_args)


def worker_init_fn(worker_id: int, num_workers: int, rank: int, seed: int | None) -> None:
    """Seed numpy, ``random`` and torch in a DataLoader worker.

    With a ``seed``, worker ``w`` of rank ``r`` uses ``num_workers * r + w + seed`` (v2's
    rule: runs with the same seed see the same augmentations). Without one, each worker
    still gets its own numpy/``random`` seed (from torch's per-worker seed), so forked
    workers do not repeat each other's random augmentations.
    """
    if seed is not None:
        worker_seed = num_workers * rank + worker_id + seed
        torch.manual_seed(worker_seed)
    else:
        worker_seed = torch.initial_seed()
    np.random.seed(worker_seed % 2**32)
    random.seed(worker_seed)


def build_dataloader(dataset: Any, samples_per_gpu: int, workers_per_gpu: int,
                     num_gpus: int = 1, dist: bool = False, shuffle: bool = True,
                     seed: int | None = None, runner_type: str = "EpochBasedRunner",
                     persistent_workers: bool = False, class_aware_sampler: dict | None = None,
                     **kwargs: Any) -> DataLoader:
    """A DataLoader with v2's samplers and :func:`collate`.

    Args:
        dataset: the dataset.
        samples_per_gpu: images per batch per process.
        workers_per_gpu: loader worker processes per process.
        num_gpus: devices of a non-distributed run (batch = ``num_gpus * samples_per_gpu``).
        dist: distributed run (one loader per process, sharded samplers).
        shuffle: shuffle (grouped by aspect ratio) or keep the order.
        seed: seeds the samplers and the workers (``worker_init_fn``).
        runner_type: ``'IterBasedRunner'`` uses endless batch samplers.
        persistent_workers: keep workers alive between epochs (needs workers > 0).
        class_aware_sampler: ``dict(num_sample_class=1)`` to use ``ClassAwareSampler``.
        **kwargs: passed to ``DataLoader`` (``pin_memory``...).
    """
    rank, world_size = get_dist_info()
    if dist:
        batch_size, num_workers = samples_per_gpu, workers_per_gpu
    else:
        batch_size, num_workers = num_gpus * samples_per_gpu, num_gpus * workers_per_gpu

    batch_sampler = None
    if runner_type == "IterBasedRunner":
        if shuffle:
            batch_sampler = InfiniteGroupBatchSampler(dataset, batch_size, world_size, rank,
                                                      seed=seed)
        else:
            batch_sampler = InfiniteBatchSampler(dataset, batch_size, world_size, rank,
                                                 seed=seed, shuffle=False)
        batch_size, sampler = 1, None
    elif class_aware_sampler is not None:
        sampler = ClassAwareSampler(dataset, samples_per_gpu, world_size, rank, seed=seed,
                                    num_sample_class=class_aware_sampler.get(
                                        "num_sample_class", 1))
    elif dist:
        if shuffle:
            sampler = DistributedGroupSampler(dataset, samples_per_gpu, world_size, rank,
                                              seed=seed)
        else:
            sampler = DistributedSampler(dataset, world_size, rank, shuffle=False, seed=seed)
    else:
        sampler = GroupSampler(dataset, samples_per_gpu) if shuffle else None

    init_fn = partial(worker_init_fn, num_workers=num_workers, rank=rank, seed=seed) \
        if num_workers > 0 else None
    if num_workers > 0:
        kwargs["persistent_workers"] = persistent_workers
    loader_args = dict(batch_size=batch_size, sampler=sampler, batch_sampler=batch_sampler)
    if batch_sampler is not None:
        loader_args = dict(batch_sampler=batch_sampler)
    return DataLoader(
        dataset,
        num_workers=num_workers,
        collate_fn=partial(collate, samples_per_gpu=samples_per_gpu),
        pin_memory=kwargs.pop("pin_memory", False),
        worker_init_fn=init_fn,
        **loader_args,
        **kwargs,
    )
