"""Dataset wrappers of MMDetection v2: concatenate, repeat, class-balance, multi-image mix."""

from __future__ import annotations

import bisect
import collections.abc
import copy
import logging
import math
from collections import defaultdict
from typing import Any, Callable, Sequence

import numpy as np
from torch.utils.data.dataset import ConcatDataset as _TorchConcatDataset

from ..registry import DATASETS, TRANSFORMS
from .coco import CocoDataset
from .custom import add_context

_log = logging.getLogger(__name__)

__all__ = ["ConcatDataset", "RepeatDataset", "ClassBalancedDataset", "MultiImageMixDataset"]


@DATASETS.register_module()
class ConcatDataset(_TorchConcatDataset):
    """Datasets one after another; ``flag`` is their flags concatenated.

    Args:
        datasets: the datasets (the first one's ``CLASSES`` and ``PALETTE`` are used).
        separate_eval: evaluate each dataset on its own slice of the results (keys prefixed
            ``'{i}_'``) rather than as one.
    """

    def __init__(self, datasets: Sequence[Any], separate_eval: bool = True) -> None:
        super().__init__(datasets)
        self.CLASSES = datasets[0].CLASSES
        self.PALETTE = getattr(datasets[0], "PALETTE", None)
        self.separate_eval = separate_eval
        if not separate_eval:
            if any(isinstance(ds, CocoDataset) for ds in datasets):
                raise NotImplementedError("evaluating concatenated CocoDatasets as a whole is not "
                                          "supported; set separate_eval=True")
            if len({type(ds) for ds in datasets}) != 1:
                raise NotImplementedError("with separate_eval=False all datasets must have the "
                                          "same type")
        if hasattr(datasets[0], "flag"):
            self.flag = np.concatenate([ds.flag for ds in datasets])

    def _locate(self, idx: int) -> tuple[int, int]:
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx = len(self) + idx
        dataset_idx = bisect.bisect_right(self.cumulative_sizes, idx)
        sample_idx = idx if dataset_idx == 0 else idx - self.cumulative_sizes[dataset_idx - 1]
        return dataset_idx, sample_idx

    def get_cat_ids(self, idx: int) -> list[int]:
        """Category ids of image ``idx`` (asked of the dataset that holds it)."""
        d, i = self._locate(idx)
        return self.datasets[d].get_cat_ids(i)

    def get_ann_info(self, idx: int) -> dict[str, Any]:
        """Annotation of image ``idx`` (asked of the dataset that holds it)."""
        d, i = self._locate(idx)
        return self.datasets[d].get_ann_info(i)

    def evaluate(self, results: Sequence[Any], logger: Any = None, **kwargs: Any) -> dict:
        """Evaluate each dataset on its slice of ``results`` (see ``separate_eval``)."""
        if len(results) != self.cumulative_sizes[-1]:
            raise ValueError(f"dataset and results have different sizes: "
                             f"{self.cumulative_sizes[-1]} vs {len(results)}")
        for ds in self.datasets:
            if not hasattr(ds, "evaluate"):
                raise NotImplementedError(f"{type(ds).__name__} has no evaluate method")
        if self.separate_eval:
            out = {}
            start = 0
            for k, (end, ds) in enumerate(zip(self.cumulative_sizes, self.datasets)):
                _log.info("Evaluating %s with %d images now",
                          getattr(ds, "ann_file", type(ds).__name__), end - start)
                res = ds.evaluate(results[start:end], logger=logger, **kwargs)
                out.update({f"{k}_{key}": v for key, v in res.items()})
                start = end
            return out
        if any(isinstance(ds, CocoDataset) for ds in self.datasets):
            raise NotImplementedError("evaluating concatenated CocoDatasets as a whole is not "
                                      "supported; set separate_eval=True")
        first = self.datasets[0]
        original = first.data_infos
        first.data_infos = [info for ds in self.datasets for info in ds.data_infos]
        try:
            return first.evaluate(results, logger=logger, **kwargs)
        finally:
            first.data_infos = list(original)


@DATASETS.register_module()
class RepeatDataset:
    """A dataset repeated ``times`` times (fewer, longer epochs for small data sets).

    Args:
        dataset: the dataset.
        times: how many times it is repeated.
    """

    def __init__(self, dataset: Any, times: int) -> None:
        self.dataset = dataset
        self.times = times
        self.CLASSES = dataset.CLASSES
        self.PALETTE = getattr(dataset, "PALETTE", None)
        if hasattr(dataset, "flag"):
            self.flag = np.tile(dataset.flag, times)
        self._ori_len = len(dataset)

    def __getitem__(self, idx: int) -> Any:
        return self.dataset[idx % self._ori_len]

    def get_cat_ids(self, idx: int) -> list[int]:
        """Category ids of image ``idx % len(dataset)``."""
        return self.dataset.get_cat_ids(idx % self._ori_len)

    def get_ann_info(self, idx: int) -> dict[str, Any]:
        """Annotation of image ``idx % len(dataset)``."""
        return self.dataset.get_ann_info(idx % self._ori_len)

    def __len__(self) -> int:
        return self.times * self._ori_len


@DATASETS.register_module()
class ClassBalancedDataset:
    """Images repeated by the rarity of their classes (LVIS's repeat factor sampling).

    With ``f(c)`` the fraction of images that contain category ``c`` and ``t`` the
    threshold, ``r(c) = max(1, sqrt(t / f(c)))``; image ``I`` appears
    ``ceil(max_{c in I} r(c))`` times (once when it has no categories).

    Args:
        dataset: the dataset (its ``get_cat_ids`` gives each image's categories).
        oversample_thr: frequency below which a category's images are repeated.
        filter_empty_gt: if False, images without categories count as one extra
            "background" category (id ``len(CLASSES)``) and may be repeated too.
    """

    def __init__(self, dataset: Any, oversample_thr: float, filter_empty_gt: bool = True) -> None:
        self.dataset = dataset
        self.oversample_thr = oversample_thr
        self.filter_empty_gt = filter_empty_gt
        self.CLASSES = dataset.CLASSES
        self.PALETTE = getattr(dataset, "PALETTE", None)
        self.repeat_factors = self._get_repeat_factors(dataset, oversample_thr)
        counts = np.array([math.ceil(r) for r in self.repeat_factors], dtype=np.int64)
        self.repeat_indices = np.repeat(np.arange(len(dataset), dtype=np.int64), counts)
        if hasattr(dataset, "flag"):
            self.flag = np.repeat(np.asarray(dataset.flag, dtype=np.uint8), counts)
        else:
            self.flag = np.zeros(0, dtype=np.uint8)

    def _image_cats(self, idx: int) -> set:
        cat_ids = set(self.dataset.get_cat_ids(idx))
        if not cat_ids and not self.filter_empty_gt:
            cat_ids = {len(self.CLASSES)}
        return cat_ids

    def _get_repeat_factors(self, dataset: Any, repeat_thr: float) -> list[float]:
        """Repeat factor ``r(I)`` of each image."""
        num_images = len(dataset)
        image_cats = [self._image_cats(i) for i in range(num_images)]
        freq: dict[Any, float] = defaultdict(int)
        for cats in image_cats:
            for c in cats:
                freq[c] += 1
        cat_repeat = {c: max(1.0, math.sqrt(repeat_thr / (n / num_images)))
                      for c, n in freq.items()}
        return [max(cat_repeat[c] for c in cats) if cats else 1 for cats in image_cats]

    def __getitem__(self, idx: int) -> Any:
        return self.dataset[int(self.repeat_indices[idx])]

    def get_ann_info(self, idx: int) -> dict[str, Any]:
        """Annotation of the image at position ``idx`` of the repeated list."""
        return self.dataset.get_ann_info(int(self.repeat_indices[idx]))

    def get_cat_ids(self, idx: int) -> list[int]:
        """Category ids of the image at position ``idx`` of the repeated list."""
        return self.dataset.get_cat_ids(int(self.repeat_indices[idx]))

    def __len__(self) -> int:
        return len(self.repeat_indices)


@DATASETS.register_module()
class MultiImageMixDataset:
    """Runs a mixing pipeline (Mosaic, MixUp...) on top of a dataset's own pipeline.

    A transform with ``get_indexes(dataset)`` gets the other images it mixes as
    ``results['mix_results']`` (each the wrapped dataset's output). A transform that
    returns ``None`` is retried up to ``max_refetch`` times.

    Args:
        dataset: the wrapped dataset (its pipeline loads the images).
        pipeline: transform config dicts (or transform objects).
        dynamic_scale: deprecated in v2; must be None (use a Resize transform).
        skip_type_keys: transform type names to skip (set by ``YOLOXModeSwitchHook``).
        max_refetch: retries for transforms or mixed images that come back ``None``.
    """

    def __init__(self, dataset: Any, pipeline: Sequence[dict | Callable],
                 dynamic_scale: Any = None, skip_type_keys: Sequence[str] | None = None,
                 max_refetch: int = 15) -> None:
        if dynamic_scale is not None:
            raise RuntimeError("dynamic_scale is deprecated; use a Resize transform instead")
        if not isinstance(pipeline, collections.abc.Sequence):
            raise TypeError(f"pipeline must be a list, got {type(pipeline).__name__}")
        self._check_skip(skip_type_keys)
        self._skip_type_keys = skip_type_keys
        self.pipeline: list[Callable] = []
        self.pipeline_types: list[str] = []
        for transform in pipeline:
            if isinstance(transform, dict):
                t = transform["type"]
                self.pipeline_types.append(t if isinstance(t, str) else t.__name__)
                self.pipeline.append(TRANSFORMS.build(transform))
            elif callable(transform):
                self.pipeline_types.append(type(transform).__name__)
                self.pipeline.append(transform)
            else:
                raise TypeError(f"pipeline entries must be dicts or transforms, got {transform!r}")
        self.dataset = dataset
        self.CLASSES = dataset.CLASSES
        self.PALETTE = getattr(dataset, "PALETTE", None)
        if hasattr(dataset, "flag"):
            self.flag = dataset.flag
        self.num_samples = len(dataset)
        self.max_refetch = max_refetch

    @staticmethod
    def _check_skip(skip_type_keys: Sequence[str] | None) -> None:
        if skip_type_keys is not None and not all(isinstance(k, str) for k in skip_type_keys):
            raise TypeError(f"skip_type_keys must be transform type names, got {skip_type_keys}")

    def __len__(self) -> int:
        return self.num_samples

    def __getitem__(self, idx: int) -> Any:
        results = copy.deepcopy(self.dataset[idx])
        for transform, type_ in zip(self.pipeline, self.pipeline_types):
            if self._skip_type_keys is not None and type_ in self._skip_type_keys:
                continue
            if hasattr(transform, "get_indexes"):
                for _ in range(self.max_refetch):
                    indexes = transform.get_indexes(self.dataset)
                    if not isinstance(indexes, collections.abc.Sequence):
                        indexes = [indexes]
                    mix_results = [copy.deepcopy(self.dataset[i]) for i in indexes]
                    if None not in mix_results:
                        results["mix_results"] = mix_results
                        break
                else:
                    raise RuntimeError(f"{type(self).__name__}[{idx}]: the wrapped dataset's "
                                       f"pipeline returned None {self.max_refetch} times for "
                                       f"the images {type_} mixes in")
            for _ in range(self.max_refetch):
                try:
                    updated = transform(copy.deepcopy(results))
                except Exception as err:
                    raise add_context(err, f"{type(self).__name__}[{idx}] {type_}") from err
                if updated is not None:
                    results = updated
                    break
            else:
                raise RuntimeError(f"{type(self).__name__}[{idx}]: {type_} returned None "
                                   f"{self.max_refetch} times; check the pipeline")
            results.pop("mix_results", None)
        return results

    def update_skip_type_keys(self, skip_type_keys: Sequence[str]) -> None:
        """Change which transform types are skipped (called by hooks)."""
        self._check_skip(skip_type_keys)
        self._skip_type_keys = skip_type_keys
