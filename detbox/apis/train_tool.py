"""What ``tools/train.py`` does, as a function: config, work dir, logs, seeds, model, data, run.

The steps follow MMDetection 2.28's ``tools/train.py``. The config is loaded and validated
first, so a typo or a missing file stops the tool before the work dir is touched. Beyond v2:
``num_classes`` of the heads follows the dataset's ``classes``
(:func:`~detbox.apis.num_classes.sync_num_classes`), and the training images are checked
before training starts (:func:`~detbox.datasets.data_check.check_dataset`).
"""

from __future__ import annotations

import logging
import os
import os.path as osp
from typing import Any, Sequence

import torch

from .. import __version__
from ..datasets import build_dataset
from ..datasets.data_check import check_dataset, split_skip_invalid
from ..engine import (
    collect_env,
    format_env,
    get_dist_info,
    get_root_logger,
    get_time_str,
    init_dist,
    init_random_seed,
    set_random_seed,
)
from ..models.builder import build_detector
from ..utils.safe_load import trusted_checkpoints
from .config import load_config
from .num_classes import sync_num_classes
from .runtime import UsageError, setup_multi_processes
from .train import get_device, train_detector

__all__ = ["run_train", "default_work_dir"]


def default_work_dir(config: str) -> str:
    """``./work_dirs/<config file name without extension>``."""
    return osp.join("./work_dirs", osp.splitext(osp.basename(config))[0])


def _enable_auto_scale_lr(cfg: Any, logger: logging.Logger) -> None:
    settings = cfg.get("auto_scale_lr")
    if settings and "enable" in settings and "base_batch_size" in settings:
        settings["enable"] = True
    else:
        logger.warning("--auto-scale-lr: the config has no auto_scale_lr = dict(enable=..., "
                       "base_batch_size=...); the learning rate is not scaled")


def _train_datasets(cfg: Any, logger: logging.Logger) -> list:
    train_cfg, skip = split_skip_invalid(cfg.data.train)
    datasets = [build_dataset(train_cfg)]
    check_dataset(datasets[0], "data.train", skip_invalid=skip, logger=logger)
    if len(cfg.workflow) == 2:
        if "val" not in [mode for mode, _ in cfg.workflow]:
            raise UsageError(f"a workflow of two phases needs a 'val' phase, got {cfg.workflow}")
        val, skip = split_skip_invalid(cfg.data.val)
        train = cfg.data.train
        val["pipeline"] = train.get("pipeline", (train.get("dataset") or {}).get("pipeline"))
        datasets.append(build_dataset(val))
        check_dataset(datasets[1], "data.val", skip_invalid=skip, logger=logger)
    return datasets


def run_train(config: str, work_dir: str | None = None, resume_from: str | None = None,
              auto_resume: bool = False, validate: bool = True,
              gpu_ids: Sequence[int] | None = None, seed: int | None = None,
              diff_seed: bool = False, deterministic: bool = False,
              cfg_options: dict | list | None = None, launcher: str = "none",
              auto_scale_lr: bool = False, trust_checkpoint: bool = False) -> Any:
    """Train the detector of ``config`` (the arguments are ``tools/train.py``'s options).

    ``trust_checkpoint`` loads ``load_from``, ``resume_from`` and ``Pretrained`` files even
    when they hold objects outside the safe allow-list (see :mod:`detbox.utils.safe_load`).

    The work dir gets the merged config as ``<config file name>``, the text log
    ``<timestamp>.log``, the JSON log ``<timestamp>.log.json`` and the checkpoints.

    Returns:
        The runner after training.
    """
    with trusted_checkpoints(trust_checkpoint):
        return _run_train(config, work_dir, resume_from, auto_resume, validate, gpu_ids, seed,
                          diff_seed, deterministic, cfg_options, launcher, auto_scale_lr)


def _run_train(config: str, work_dir: str | None, resume_from: str | None, auto_resume: bool,
               validate: bool, gpu_ids: Sequence[int] | None, seed: int | None,
               diff_seed: bool, deterministic: bool, cfg_options: dict | list | None,
               launcher: str, auto_scale_lr: bool) -> Any:
    cfg = load_config(config, cfg_options)
    classes_note = sync_num_classes(cfg)
    if resume_from is not None and not osp.isfile(resume_from):
        raise FileNotFoundError(f"--resume-from: checkpoint file not found: {resume_from}")
    setup_multi_processes(cfg)
    if cfg.get("cudnn_benchmark", False):
        torch.backends.cudnn.benchmark = True
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get("work_dir") is None:
        cfg.work_dir = default_work_dir(config)
    if resume_from is not None:
        cfg.resume_from = resume_from
    cfg.auto_resume = auto_resume
    cfg.gpu_ids = list(gpu_ids)[:1] if gpu_ids else [0]

    distributed = launcher != "none"
    if distributed:
        init_dist(launcher, **cfg.get("dist_params", {}))
        cfg.gpu_ids = list(range(get_dist_info()[1]))
    rank = get_dist_info()[0]

    os.makedirs(osp.abspath(cfg.work_dir), exist_ok=True)
    if rank == 0:
        cfg.dump(osp.join(cfg.work_dir, osp.basename(config)))
    timestamp = get_time_str()
    logger = get_root_logger(log_file=osp.join(cfg.work_dir, f"{timestamp}.log"),
                             log_level=cfg.get("log_level", "INFO"))
    if auto_scale_lr:
        _enable_auto_scale_lr(cfg, logger)
    if classes_note:
        logger.info(classes_note)

    env_info = format_env(collect_env())
    dash_line = "-" * 60 + "\n"
    logger.info("Environment info:\n" + dash_line + env_info + "\n" + dash_line)
    meta: dict = dict(env_info=env_info, config=cfg.pretty_text)
    logger.info(f"Distributed training: {distributed}")
    logger.info(f"Config:\n{cfg.pretty_text}")

    cfg.device = get_device()
    seed = init_random_seed(seed, device=None)
    if diff_seed:
        seed += rank
    logger.info(f"Set random seed to {seed}, deterministic: {deterministic}")
    set_random_seed(seed, deterministic=deterministic)
    cfg.seed = seed
    meta.update(seed=seed, exp_name=osp.basename(config))

    model = build_detector(cfg.model, train_cfg=cfg.get("train_cfg"),
                           test_cfg=cfg.get("test_cfg"))
    model.init_weights()
    datasets = _train_datasets(cfg, logger)
    classes = datasets[0].CLASSES
    if cfg.get("checkpoint_config") is not None:
        cfg.checkpoint_config.meta = dict(detbox_version=__version__, CLASSES=classes)
    model.CLASSES = classes
    return train_detector(model, datasets, cfg, distributed=distributed, validate=validate,
                          timestamp=timestamp, meta=meta)
