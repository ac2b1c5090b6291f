"""What ``tools/test.py`` does, as a function: build the test set and the model, load the
checkpoint, run it, then save, format, evaluate or draw the results (MMDetection 2.28).

Beyond v2, a checkpoint that does not fit the model (weights missing from it, or of other
shapes: a checkpoint of another config) is an error instead of a warning followed by
meaningless results; the checkpoint is read safely (:mod:`detbox.utils.safe_load`;
``trust_checkpoint=True`` / ``--trust-checkpoint`` to load other objects);
``num_classes`` follows ``classes``; the test images are checked first.
"""

from __future__ import annotations

import copy
import json
import os
import os.path as osp
import pickle
from typing import Any, Sequence

import torch
from torch import nn

from ..datasets import build_dataloader, build_dataset
from ..datasets.data_check import check_dataset, split_skip_invalid
from ..engine import build_ddp, get_dist_info, get_root_logger, get_time_str, init_dist
from ..evaluation import multi_gpu_test, single_gpu_test
from ..models.builder import build_detector
from ..utils.checkpoint import load_state_dict
from ..utils.safe_load import trusted_checkpoints
from .compat import compat_cfg
from .config import load_config
from .inference import place_model
from .num_classes import sync_num_classes
from .runtime import (
    check_test_options,
    checkpoint_state_for,
    read_checkpoint,
    setup_multi_processes,
)
from .train import get_device

__all__ = ["run_test", "load_test_checkpoint", "EVAL_HOOK_KEYS"]

# Keys of ``cfg.evaluation`` that configure the eval hook, not ``dataset.evaluate``.
EVAL_HOOK_KEYS = ("interval", "tmpdir", "start", "gpu_collect", "save_best", "rule",
                  "dynamic_intervals", "by_epoch", "greater_keys", "less_keys", "out_dir",
                  "file_client_args", "broadcast_bn_buffer", "test_fn", "type")


def load_test_checkpoint(model: nn.Module, checkpoint: str, config: str = "") -> dict:
    """Load ``checkpoint`` into ``model``; raise if it leaves weights unset or misshapen.

    Keys of the file that the model lacks (EMA copies, extra heads) only warn.

    Raises:
        FileNotFoundError, CheckpointError: see :func:`~detbox.apis.runtime.read_checkpoint`
            and :func:`~detbox.apis.runtime.checkpoint_state_for`.
    """
    ckpt = read_checkpoint(checkpoint)
    state = checkpoint_state_for(model, ckpt, checkpoint, config)
    load_state_dict(model, state, strict=False, logger=get_root_logger(), source=checkpoint)
    return ckpt


def _test_loader_args(cfg: Any, distributed: bool) -> dict:
    args = dict(samples_per_gpu=1, workers_per_gpu=2, dist=distributed, shuffle=False)
    args.update(cfg.data.get("test_dataloader", {}))
    return args


def _prepare_cfg(cfg: Any) -> Any:
    cfg = compat_cfg(cfg)
    if "pretrained" in cfg.model:
        cfg.model.pretrained = None
    elif "init_cfg" in cfg.model.get("backbone", {}):
        cfg.model.backbone.init_cfg = None
    tests = cfg.data.test if isinstance(cfg.data.test, (list, tuple)) else [cfg.data.test]
    for ds_cfg in tests:
        ds_cfg.test_mode = True
    cfg.model.train_cfg = None
    return cfg


def run_test(config: str, checkpoint: str, work_dir: str | None = None,
             out: str | None = None, format_only: bool = False,
             eval_metrics: Sequence[str] | None = None, show: bool = False,
             show_dir: str | None = None, show_score_thr: float = 0.3,
             eval_options: dict | None = None, cfg_options: dict | list | None = None,
             launcher: str = "none", gpu_id: int = 0, gpu_collect: bool = False,
             tmpdir: str | None = None, trust_checkpoint: bool = False) -> dict | None:
    """Test ``checkpoint`` on ``data.test`` of ``config`` (``tools/test.py``'s options).

    Returns:
        The metrics of ``dataset.evaluate`` when ``eval_metrics`` is given (rank 0), else
        ``None``. With ``work_dir``, they are also written to ``eval_<timestamp>.json``.
    """
    with trusted_checkpoints(trust_checkpoint):
        return _run_test(config, checkpoint, work_dir, out, format_only, eval_metrics, show,
                         show_dir, show_score_thr, eval_options, cfg_options, launcher, gpu_id,
                         gpu_collect, tmpdir)


def _run_test(config: str, checkpoint: str, work_dir: str | None, out: str | None,
              format_only: bool, eval_metrics: Sequence[str] | None, show: bool,
              show_dir: str | None, show_score_thr: float, eval_options: dict | None,
              cfg_options: dict | list | None, launcher: str, gpu_id: int, gpu_collect: bool,
              tmpdir: str | None) -> dict | None:
    check_test_options(out, eval_metrics, format_only, show, show_dir)
    cfg = _prepare_cfg(load_config(config, cfg_options))
    classes_note = sync_num_classes(cfg)
    if "://" not in checkpoint and not osp.isfile(checkpoint):
        raise FileNotFoundError(f"checkpoint file not found: {checkpoint}")
    setup_multi_processes(cfg)
    if cfg.get("cudnn_benchmark", False):
        torch.backends.cudnn.benchmark = True
    cfg.gpu_ids = [gpu_id]
    device = get_device()
    distributed = launcher != "none"
    if distributed:
        init_dist(launcher, **cfg.get("dist_params", {}))
    rank = get_dist_info()[0]
    logger = get_root_logger(log_level=cfg.get("log_level", "INFO"))

    if classes_note:
        logger.info(classes_note)
    test_cfg, skip = split_skip_invalid(cfg.data.test)
    dataset = build_dataset(test_cfg)
    check_dataset(dataset, "data.test", skip_invalid=skip, logger=logger)
    data_loader = build_dataloader(dataset, **_test_loader_args(cfg, distributed))
    model = build_detector(cfg.model, test_cfg=cfg.get("test_cfg"))
    ckpt = load_test_checkpoint(model, checkpoint, config)
    classes = (ckpt.get("meta") or {}).get("CLASSES")
    model.CLASSES = classes if classes is not None else dataset.CLASSES
    place_model(model, device, cfg.get("channels_last"))

    if distributed:
        model = build_ddp(model, device, broadcast_buffers=False)
        outputs = multi_gpu_test(model, data_loader, tmpdir,
                                 gpu_collect or cfg.get("evaluation", {}).get("gpu_collect",
                                                                               False))
    else:
        if device == "cuda":
            torch.cuda.set_device(gpu_id)
        outputs = single_gpu_test(model.to(device), data_loader, show, show_dir,
                                  show_score_thr)
    if rank != 0:
        return None
    if out:
        logger.info("writing results to %s", out)
        os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
        with open(out, "wb") as f:
            pickle.dump(outputs, f)
    kwargs = dict(eval_options or {})
    if format_only:
        dataset.format_results(outputs, **kwargs)
    if not eval_metrics:
        return None
    eval_kwargs = copy.deepcopy(dict(cfg.get("evaluation") or {}))
    for key in EVAL_HOOK_KEYS:
        eval_kwargs.pop(key, None)
    eval_kwargs.update(dict(metric=list(eval_metrics), **kwargs))
    metrics = dataset.evaluate(outputs, logger=logger, **eval_kwargs)
    if work_dir is not None:
        os.makedirs(osp.abspath(work_dir), exist_ok=True)
        json_file = osp.join(work_dir, f"eval_{get_time_str()}.json")
        with open(json_file, "w", encoding="utf-8") as f:
            json.dump(dict(config=config, metric=metrics), f, indent=2, default=str)
        logger.info("metrics written to %s", json_file)
    return metrics
