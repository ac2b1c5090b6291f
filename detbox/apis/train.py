"""``train_detector``: data loaders, optimizer, runner and hooks from a config, then the run.

It follows MMDetection 2.28's ``mmdet.apis.train_detector``:

1. ``compat_cfg`` (old spellings), then one training loader per dataset from
   ``data.train_dataloader`` over the defaults ``samples_per_gpu=2, workers_per_gpu=2``;
2. the model on ``cfg.device`` (CPU without CUDA), wrapped in DistributedDataParallel when
   distributed (``broadcast_buffers=False``, ``find_unused_parameters`` from the config);
3. ``auto_scale_lr``, the optimizer, the runner from ``cfg.runner``;
4. hooks: LR, momentum, optimizer (fp16 from ``cfg.fp16``), checkpoint, timer, loggers and
   ``custom_hooks`` (:meth:`~detbox.engine.BaseRunner.register_training_hooks`),
   ``DistSamplerSeedHook`` for distributed epoch-based runs, the eval hook at LOW (70) with
   ``by_epoch`` from the runner type and the rest of ``cfg.evaluation``, and (beyond v2)
   ``EarlyStoppingHook`` from a top-level ``early_stopping = dict(monitor=..., patience=...)``
   at priority 80, between the eval hook and the loggers;
5. ``resume_from``, else the newest checkpoint of the work dir with ``auto_resume``, else
   ``load_from`` (weights only); then ``runner.run(data_loaders, cfg.workflow)``. Beyond v2,
   a ``resume_from`` checkpoint that does not fit the model is an error
   (:class:`~detbox.apis.runtime.CheckpointError`), not a warning.
"""

from __future__ import annotations

import logging
from typing import Any, Sequence

import torch
from torch import nn

from ..datasets import build_dataloader, build_dataset
from ..datasets.data_check import check_dataset, split_skip_invalid
from ..engine import (
    DistSamplerSeedHook,
    EpochBasedRunner,
    build_ddp,
    build_optimizer,
    build_optimizer_hook,
    build_runner,
    find_latest_checkpoint,
    get_dist_info,
    get_root_logger,
    unwrap_model,
)
from ..registry import HOOKS
from .compat import compat_cfg
from .inference import place_model
from .runtime import checkpoint_state_for, read_checkpoint

__all__ = ["train_detector", "auto_scale_lr", "get_device"]

# Evaluation hooks read the metrics at LOW (70) and the loggers clear them at VERY_LOW (90).
EARLY_STOPPING_PRIORITY = 80


def get_device() -> str:
    """``'cuda'`` when a GPU is available, else ``'cpu'``."""
    return "cuda" if torch.cuda.is_available() else "cpu"


def auto_scale_lr(cfg: Any, distributed: bool, logger: logging.Logger) -> None:
    """Scale ``cfg.optimizer.lr`` by ``batch size / auto_scale_lr.base_batch_size``, in place.

    Only when ``auto_scale_lr.enable`` is true (``tools/train.py --auto-scale-lr``). The
    batch size is (processes or ``len(cfg.gpu_ids)``) x ``data.train_dataloader.samples_per_gpu``
    (the linear scaling rule, as MMDetection 2.28).
    """
    settings = cfg.get("auto_scale_lr")
    if not settings or not settings.get("enable", False):
        logger.info("Automatic scaling of learning rate (LR) has been disabled.")
        return
    base_batch_size = settings.get("base_batch_size")
    if base_batch_size is None:
        return
    num_gpus = get_dist_info()[1] if distributed else len(cfg.get("gpu_ids") or [0])
    samples_per_gpu = cfg.data.train_dataloader.get("samples_per_gpu", 2)
    batch_size = num_gpus * samples_per_gpu
    logger.info(f"Training with {num_gpus} GPU(s) with {samples_per_gpu} samples per GPU. "
                f"The total batch size is {batch_size}.")
    if batch_size != base_batch_size:
        scaled_lr = batch_size / base_batch_size * cfg.optimizer.lr
        logger.info(f"LR has been automatically scaled from {cfg.optimizer.lr} to {scaled_lr}")
        cfg.optimizer.lr = scaled_lr
    else:
        logger.info(f"The batch size match the base batch size: {base_batch_size}, will not "
                    f"scaling the LR ({cfg.optimizer.lr}).")


def _place_model(model: nn.Module, cfg: Any, distributed: bool) -> nn.Module:
    device = cfg.get("device") or get_device()
    if device == "cuda" and not distributed:
        gpu_ids = list(cfg.get("gpu_ids") or [0])
        torch.cuda.set_device(gpu_ids[0])
    model = place_model(model, device, cfg.get("channels_last"))
    if distributed:
        return build_ddp(model, device, broadcast_buffers=False,
                         find_unused_parameters=cfg.get("find_unused_parameters", False))
    return model


def _register_eval_hook(runner: Any, cfg: Any, distributed: bool) -> None:
    from ..evaluation import DistEvalHook, EvalHook

    val_loader_args = dict(samples_per_gpu=1, workers_per_gpu=2, dist=distributed,
                           shuffle=False, persistent_workers=False)
    val_loader_args.update(cfg.data.get("val_dataloader", {}))
    val_cfg, skip = split_skip_invalid(cfg.data.val)
    val_dataset = build_dataset(val_cfg, dict(test_mode=True))
    check_dataset(val_dataset, "data.val", skip_invalid=skip, logger=runner.logger)
    val_loader = build_dataloader(val_dataset, **val_loader_args)
    eval_cfg = dict(cfg.get("evaluation") or {})
    eval_cfg["by_epoch"] = cfg.runner["type"] != "IterBasedRunner"
    hook_type = eval_cfg.pop("type", None)
    if hook_type is None:
        hook_cls = DistEvalHook if distributed else EvalHook
    else:
        hook_cls = HOOKS.resolve(hook_type)
    runner.register_hook(hook_cls(val_loader, **eval_cfg), priority="LOW")


def _register_early_stopping(runner: Any, cfg: Any, validate: bool,
                             logger: logging.Logger) -> None:
    settings = cfg.get("early_stopping")
    if not settings:
        return
    if not validate:
        logger.warning("early_stopping is set but there is no evaluation during training "
                       "(--no-validate); it will never stop the run")
    args = dict(settings)
    priority = args.pop("priority", EARLY_STOPPING_PRIORITY)
    args.setdefault("by_epoch", cfg.runner["type"] != "IterBasedRunner")
    runner.register_hook(HOOKS.build(dict(type="EarlyStoppingHook", **args)), priority=priority)


def train_detector(model: nn.Module, dataset: Any | Sequence[Any], cfg: Any,
                   distributed: bool = False, validate: bool = False,
                   timestamp: str | None = None, meta: dict | None = None) -> Any:
    """Train ``model`` on ``dataset`` as ``cfg`` describes (MMDetection 2.28's semantics).

    Args:
        model: the detector (built, weights initialised, ``CLASSES`` set).
        dataset: the training dataset, or one per workflow phase
            (``[train, val]`` for ``workflow = [('train', 1), ('val', 1)]``).
        cfg: the merged config; uses ``data``, ``optimizer``, ``optimizer_config``,
            ``lr_config``, ``momentum_config``, ``runner`` (or ``total_epochs``),
            ``checkpoint_config``, ``log_config``, ``custom_hooks``, ``evaluation``, ``fp16``,
            ``auto_scale_lr``, ``early_stopping``, ``workflow``, ``work_dir``, ``gpu_ids``,
            ``seed``, ``device``, ``resume_from``, ``auto_resume``, ``load_from``.
        distributed: a process group is initialised (one process per device).
        validate: evaluate on ``data.val`` during training.
        timestamp: names the JSON log ``{work_dir}/{timestamp}.log.json``; give the one of
            the text log so that both match.
        meta: run information for the log and checkpoints (``env_info``, ``config``,
            ``seed``, ``exp_name``).

    Returns:
        The runner, after its run.
    """
    cfg = compat_cfg(cfg)
    logger = get_root_logger(log_level=cfg.get("log_level", "INFO"))
    datasets = list(dataset) if isinstance(dataset, (list, tuple)) else [dataset]
    runner_type = cfg.runner["type"]

    train_loader_args = dict(samples_per_gpu=2, workers_per_gpu=2,
                             num_gpus=len(cfg.get("gpu_ids") or [0]), dist=distributed,
                             seed=cfg.get("seed"), runner_type=runner_type,
                             persistent_workers=False)
    train_loader_args.update(cfg.data.get("train_dataloader", {}))
    data_loaders = [build_dataloader(ds, **train_loader_args) for ds in datasets]

    model = _place_model(model, cfg, distributed)
    auto_scale_lr(cfg, distributed, logger)
    optimizer = build_optimizer(model, cfg.optimizer)
    runner = build_runner(cfg.runner, default_args=dict(
        model=model, optimizer=optimizer, work_dir=cfg.get("work_dir"), logger=logger,
        meta=meta))
    if timestamp is not None:
        runner.timestamp = timestamp

    optimizer_config = build_optimizer_hook(cfg.get("optimizer_config"), cfg.get("fp16"),
                                            distributed)
    runner.register_training_hooks(
        cfg.lr_config, optimizer_config, cfg.get("checkpoint_config"), cfg.get("log_config"),
        cfg.get("momentum_config"), custom_hooks_config=cfg.get("custom_hooks"))
    if distributed and isinstance(runner, EpochBasedRunner):
        runner.register_hook(DistSamplerSeedHook())
    if validate:
        _register_eval_hook(runner, cfg, distributed)
    _register_early_stopping(runner, cfg, validate, logger)

    resume_from = cfg.get("resume_from")
    if resume_from is None and cfg.get("auto_resume"):
        resume_from = find_latest_checkpoint(cfg.work_dir)
        if resume_from is not None:
            logger.info("auto-resume: continuing from %s", resume_from)
    if resume_from:
        # a checkpoint of another model would be half loaded with only warnings: refuse it
        checkpoint_state_for(unwrap_model(model), read_checkpoint(resume_from), resume_from)
        runner.resume(resume_from, map_location="default")
    elif cfg.get("load_from"):
        runner.load_checkpoint(cfg.load_from)
    runner.run(data_loaders, cfg.workflow)
    return runner
