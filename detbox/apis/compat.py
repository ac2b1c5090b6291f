"""Older config spellings moved to where MMDetection 2.28 reads them (its ``compat_cfg``).

- ``data.imgs_per_gpu`` becomes ``data.samples_per_gpu``;
- ``data.samples_per_gpu`` / ``persistent_workers`` move into ``data.train_dataloader``,
  ``data.workers_per_gpu`` into all three ``data.*_dataloader`` (a value set there wins;
  v2 overwrote it); ``samples_per_gpu`` of
  ``data.val`` / ``data.test`` into ``data.val_dataloader`` / ``data.test_dataloader``;
- a config with ``total_epochs`` and no ``runner`` gets
  ``runner = dict(type='EpochBasedRunner', max_epochs=total_epochs)``.

>>> from detbox.config import Config
>>> cfg = compat_cfg(Config(dict(total_epochs=3, data=dict(
...     samples_per_gpu=4, workers_per_gpu=0, val=dict(samples_per_gpu=2), test=dict()))))
>>> cfg.runner.max_epochs, dict(cfg.data.train_dataloader), dict(cfg.data.val_dataloader)
(3, {'samples_per_gpu': 4, 'workers_per_gpu': 0}, {'workers_per_gpu': 0, 'samples_per_gpu': 2})
"""

from __future__ import annotations

import copy
import logging
from typing import Any

__all__ = ["compat_cfg"]

logger = logging.getLogger(__name__)


def _move_samples_per_gpu(section: Any, loader: dict, name: str) -> None:
    if isinstance(section, dict) and "samples_per_gpu" in section:
        if "samples_per_gpu" in loader:
            raise ValueError(f"samples_per_gpu is set in both data.{name} and "
                             f"data.{name}_dataloader; set it only in data.{name}_dataloader")
        loader["samples_per_gpu"] = section.pop("samples_per_gpu")


def _compat_loader_args(data: dict) -> None:
    if "imgs_per_gpu" in data:
        logger.warning("data.imgs_per_gpu is deprecated; use samples_per_gpu (now %s)",
                       data["imgs_per_gpu"])
        data["samples_per_gpu"] = data.pop("imgs_per_gpu")
    for name in ("train", "val", "test"):
        data.setdefault(f"{name}_dataloader", {})
    train = data["train_dataloader"]
    for key in ("samples_per_gpu", "persistent_workers"):
        if key in data:
            if key in train:
                raise ValueError(f"{key} is set in both data and data.train_dataloader; set "
                                 f"it only in data.train_dataloader")
            train[key] = data.pop(key)
    if "workers_per_gpu" in data:
        workers = data.pop("workers_per_gpu")
        for name in ("train", "val", "test"):
            data[f"{name}_dataloader"].setdefault("workers_per_gpu", workers)
    _move_samples_per_gpu(data.get("val"), data["val_dataloader"], "val")
    test = data.get("test")
    if isinstance(test, (list, tuple)):
        if any("samples_per_gpu" in c for c in test) and \
                "samples_per_gpu" in data["test_dataloader"]:
            raise ValueError("samples_per_gpu is set in both data.test and "
                             "data.test_dataloader; set it only in data.test_dataloader")
        per_set = [c.pop("samples_per_gpu", 1) for c in test]
        data["test_dataloader"].setdefault("samples_per_gpu", max(per_set))
    else:
        _move_samples_per_gpu(test, data["test_dataloader"], "test")


def compat_cfg(cfg: Any) -> Any:
    """A deep copy of ``cfg`` with the deprecated spellings moved (see the module docstring).

    Raises:
        ValueError: a value set in both its old and new place, or ``total_epochs`` that
            disagrees with ``runner.max_epochs``.
    """
    cfg = copy.deepcopy(cfg)
    if "data" in cfg:
        _compat_loader_args(cfg["data"])
    if "runner" not in cfg:
        if "total_epochs" not in cfg:
            raise ValueError("the config has neither a runner section "
                             "(runner = dict(type='EpochBasedRunner', max_epochs=12)) nor "
                             "total_epochs")
        logger.warning("total_epochs is deprecated; the config should have a runner section")
        cfg["runner"] = dict(type="EpochBasedRunner", max_epochs=cfg["total_epochs"])
    elif "total_epochs" in cfg and cfg["total_epochs"] != cfg["runner"].get("max_epochs"):
        raise ValueError(f"total_epochs={cfg['total_epochs']} disagrees with "
                         f"runner.max_epochs={cfg['runner'].get('max_epochs')}")
    return cfg
