"""A check of a data set before training or testing: files, headers, and a short report.

:func:`check_dataset` looks at every image of a built dataset (through the wrappers):

- the file ``img_prefix/filename`` exists, and its header decodes (PIL reads the header
  only, so thousands of images take about a second, not a full decode each);
- when files are missing, whether ``img_prefix`` + ``file_name`` has a doubled or a missing
  folder (``data/coco/train2017/train2017/a.jpg``), naming the path tried and the fix.

It logs one report (images, instances per class, images without boxes, boxes dropped when the
annotations were read: zero area, outside the image, crowd boxes kept as ignored) and raises
:class:`DataCheckError` listing every missing or corrupt file at once, or, with
``skip_invalid=True`` (``data.train.skip_invalid_images=True``), drops those images with a
warning.
"""

from __future__ import annotations

import copy
import logging
import os
import os.path as osp
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["DataCheckError", "DataReport", "check_dataset", "base_datasets", "check_image_file",
           "split_skip_invalid"]

_LOGGER = logging.getLogger(__name__)
_LIST_LIMIT = 20


class DataCheckError(ValueError):
    """Images of a data set are missing or unreadable (all of them listed)."""


@dataclass
class DataReport:
    """What :func:`check_dataset` found in one dataset."""

    name: str
    images: int = 0
    instances: dict[str, int] = field(default_factory=dict)
    without_boxes: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    missing: list[tuple[int, str]] = field(default_factory=list)  # (index, path)
    corrupt: list[tuple[int, str, str]] = field(default_factory=list)  # (index, path, why)
    hint: str = ""
    filtered: str = ""
    seconds: float = 0.0

    def summary(self) -> str:
        """One paragraph for the log."""
        inst = sum(self.instances.values())
        per_class = ", ".join(f"{k}: {v}" for k, v in self.instances.items())
        dropped = ", ".join(f"{v} {k}" for k, v in self.dropped.items()) or "none"
        text = (f"data check {self.name}: {self.images} images, {inst} instances ({per_class}), "
                f"{self.without_boxes} images without boxes; boxes dropped: {dropped}")
        if self.filtered:
            text += f"; filtered: {self.filtered}"
        bad = len(self.missing) + len(self.corrupt)
        text += (f"; {bad} missing or unreadable image files" if bad else
                 "; all image files found and readable")
        return text + f" (checked in {self.seconds:.2f} s)"

    def problems(self) -> str:
        """The missing and corrupt files, each on a line (at most 20 of each shown)."""
        lines = []
        if self.missing:
            lines.append(f"{len(self.missing)} image files do not exist:")
            lines += [f"  {p}" for _, p in self.missing[:_LIST_LIMIT]]
            if len(self.missing) > _LIST_LIMIT:
                lines.append(f"  ... and {len(self.missing) - _LIST_LIMIT} more")
        if self.corrupt:
            lines.append(f"{len(self.corrupt)} image files cannot be decoded:")
            lines += [f"  {p} ({why})" for _, p, why in self.corrupt[:_LIST_LIMIT]]
            if len(self.corrupt) > _LIST_LIMIT:
                lines.append(f"  ... and {len(self.corrupt) - _LIST_LIMIT} more")
        return "\n".join(lines)


def split_skip_invalid(ds_cfg: Any) -> tuple[Any, bool]:
    """A copy of a dataset config without ``skip_invalid_images``, and that setting.

    >>> split_skip_invalid(dict(type='CocoDataset', skip_invalid_images=True))
    ({'type': 'CocoDataset'}, True)
    """
    ds_cfg = copy.deepcopy(ds_cfg)
    skip = bool(ds_cfg.pop("skip_invalid_images", False)) if isinstance(ds_cfg, dict) else False
    return ds_cfg, skip


def check_image_file(path: str) -> str | None:
    """``None`` if ``path`` is an image whose header decodes, else why not."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            width, height = img.size
    except FileNotFoundError:
        return "missing"
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        return str(err).split(" (")[0] or type(err).__name__
    if width <= 0 or height <= 0:
        return f"size {width}x{height}"
    return None


def base_datasets(dataset: Any) -> list[Any]:
    """The datasets that hold images, under the wrappers (Repeat, ClassBalanced, Concat...)."""
    if hasattr(dataset, "datasets"):
        return [d for ds in dataset.datasets for d in base_datasets(ds)]
    if hasattr(dataset, "dataset") and not hasattr(dataset, "_store"):
        return base_datasets(dataset.dataset)
    return [dataset]


def _path_of(dataset: Any, filename: str) -> str:
    prefix = getattr(dataset, "img_prefix", None)
    return osp.join(prefix, filename) if prefix else filename


def _prefix_hint(dataset: Any, filename: str) -> str:
    """A doubled or missing folder between ``img_prefix`` and ``filename``, if one explains it."""
    prefix = getattr(dataset, "img_prefix", None) or ""
    tried = _path_of(dataset, filename)
    if prefix and not osp.isdir(prefix):
        return (f"img_prefix {prefix!r} is not a folder (the first missing path tried is "
                f"{tried})")
    candidates = []
    parent = osp.dirname(osp.normpath(prefix)) if prefix else ""
    if prefix:
        candidates.append((osp.join(parent, filename), f"img_prefix={parent + os.sep!r}"))
    parts = filename.replace("\\", "/").split("/")
    if len(parts) > 1:
        candidates.append((osp.join(prefix, parts[-1]),
                           f"file names without their folder {'/'.join(parts[:-1])}/"))
    if prefix and osp.isdir(prefix):
        for sub in sorted(os.listdir(prefix))[:50]:
            if osp.isdir(osp.join(prefix, sub)):
                candidates.append((osp.join(prefix, sub, filename),
                                   f"img_prefix={osp.join(prefix, sub) + os.sep!r}"))
    for path, fix in candidates:
        if osp.isfile(path):
            return (f"the path tried is img_prefix + file_name = {tried}, which does not exist, "
                    f"but {path} does: set {fix} (a doubled or missing folder)")
    return f"the first path tried is img_prefix + file_name = {tried}"


def _instances(dataset: Any) -> tuple[dict[str, int], int]:
    classes = list(getattr(dataset, "CLASSES", None) or [])
    counts = np.zeros(max(len(classes), 1), dtype=np.int64)
    empty = 0
    store = getattr(dataset, "_store", None)
    labels = store.ragged("labels") if store is not None else None
    if labels is not None:
        data = np.asarray(labels.data, dtype=np.int64)
        data = data[(data >= 0) & (data < len(counts))]
        counts = np.bincount(data, minlength=len(counts))
        empty = int((labels.lengths() == 0).sum())
    else:
        for i in range(len(dataset)):
            lab = np.asarray(dataset.get_ann_info(i).get("labels", []), dtype=np.int64)
            empty += len(lab) == 0
            np.add.at(counts, lab[(lab >= 0) & (lab < len(counts))], 1)
    names = classes or ["objects"]
    return {str(n): int(counts[i]) for i, n in enumerate(names)}, empty


def _report_one(dataset: Any, name: str) -> DataReport:
    report = DataReport(name=name)
    start = time.perf_counter()
    store = getattr(dataset, "_store", None)
    if store is None:
        report.images = len(dataset)
        return report
    report.images = len(dataset)
    for i in range(len(dataset)):
        filename = store.get("filename", i)
        path = _path_of(dataset, filename)
        why = check_image_file(path)
        if why == "missing":
            report.missing.append((i, path))
        elif why is not None:
            report.corrupt.append((i, path, why))
    report.seconds = time.perf_counter() - start
    report.instances, report.without_boxes = _instances(dataset)
    report.dropped = {k: v for k, v in (getattr(dataset, "dropped_boxes", None) or {}).items()
                      if v}
    report.filtered = getattr(dataset, "_filter_report", None) or ""
    if report.missing:
        report.hint = _prefix_hint(dataset, store.get("filename", report.missing[0][0]))
    return report


def _drop_images(dataset: Any, bad: set[int]) -> None:
    keep = [i for i in range(len(dataset)) if i not in bad]
    dataset._store = dataset._store.select(keep)
    proposals = getattr(dataset, "proposals", None)
    if proposals is not None:
        dataset.proposals = (proposals.select(keep) if hasattr(proposals, "select")
                             else [proposals[i] for i in keep])
    dataset._set_group_flag()


def _refresh_wrappers(dataset: Any) -> None:
    """Recompute the lengths and flags wrappers keep, after their datasets lost images."""
    for child in getattr(dataset, "datasets", []) or []:
        _refresh_wrappers(child)
    inner = getattr(dataset, "dataset", None)
    if inner is not None and not hasattr(dataset, "_store"):
        _refresh_wrappers(inner)
    kind = type(dataset).__name__
    if kind == "ConcatDataset":
        type(dataset).__init__(dataset, dataset.datasets, dataset.separate_eval)
    elif kind == "RepeatDataset":
        type(dataset).__init__(dataset, dataset.dataset, dataset.times)
    elif kind == "ClassBalancedDataset":
        type(dataset).__init__(dataset, dataset.dataset, dataset.oversample_thr,
                               dataset.filter_empty_gt)
    elif kind == "MultiImageMixDataset":
        dataset.num_samples = len(dataset.dataset)
        if hasattr(dataset.dataset, "flag"):
            dataset.flag = dataset.dataset.flag


def check_dataset(dataset: Any, where: str = "data.train", skip_invalid: bool = False,
                  logger: logging.Logger | None = None) -> list[DataReport]:
    """Check every image file of ``dataset``, log a report, and refuse or drop bad images.

    Args:
        dataset: a built dataset (wrappers are looked through).
        where: the config key of the dataset, named in the messages.
        skip_invalid: drop missing/corrupt images with a warning instead of raising.
        logger: where the report goes (the module's logger if not given).

    Returns:
        One report per dataset holding images.

    Raises:
        DataCheckError: missing or corrupt files (all listed) and not ``skip_invalid``.
    """
    log = logger or _LOGGER
    bases = base_datasets(dataset)
    reports = []
    for k, base in enumerate(bases):
        name = where if len(bases) == 1 else f"{where} [{k}]"
        ann = getattr(base, "ann_file", None)
        report = _report_one(base, f"{name} ({type(base).__name__}"
                                   f"{', ' + str(ann) if ann else ''})")
        reports.append(report)
        log.info(report.summary())
    bad = [r for r in reports if r.missing or r.corrupt]
    if not bad:
        return reports
    text = "\n".join(r.name + ":\n" + r.problems() + (f"\n  hint: {r.hint}" if r.hint else "")
                     for r in bad)
    if not skip_invalid:
        key = where.split(" ")[0]
        raise DataCheckError(
            f"the data set has missing or unreadable images:\n{text}\nFix the files or the "
            f"paths (img_prefix, file_name), or set {key}.skip_invalid_images=True to train "
            f"without them")
    total = 0
    for base, report in zip(bases, reports):
        drop = {i for i, _ in report.missing} | {i for i, _, _ in report.corrupt}
        if drop:
            _drop_images(base, drop)
            total += len(drop)
    _refresh_wrappers(dataset)
    if len(dataset) == 0:
        raise DataCheckError(f"{where}: no image is left after dropping the missing or "
                             f"unreadable ones:\n{text}")
    log.warning("skip_invalid_images=True: %d images dropped from %s:\n%s", total, where, text)
    return reports
