"""Validation of a merged config, beyond MMDetection: typos are errors, not silent no-ops.

- The known sections (``data``, ``optimizer``, ``optimizer_config``, ``lr_config``, ``runner``,
  ``checkpoint_config``, ``log_config``, ``evaluation``, ...) may only hold keys their consumers
  read.
- An unknown top-level key that is one or two edits away from a known one (``lr_cofig``) is an
  error; other unknown top-level keys are helper variables (``img_norm_cfg``, ``albu_cfg``) and
  stay legal.

Component arguments (``model.rpn_head.anchor_generator.scale``) are checked against the
registered classes by :func:`detbox.registry.check_components`.

>>> validate_config({'lr_cofig': dict(policy='step', step=[8, 11])})
Traceback (most recent call last):
...
detbox.config.validate.ConfigValidationError: ...did you mean 'lr_config'?
"""

from __future__ import annotations

import inspect
from typing import Any, Iterable

from ..suggest import did_you_mean, near_misses

_LOADER_KEYS = {"samples_per_gpu", "workers_per_gpu", "shuffle", "seed", "persistent_workers",
                "class_aware_sampler", "num_gpus", "dist", "runner_type", "pin_memory",
                "drop_last"}
_WARMUP = {"policy", "by_epoch", "warmup", "warmup_iters", "warmup_ratio", "warmup_by_epoch",
           "type"}
# Arguments of each learning-rate policy (mmcv 1.x names), on top of _WARMUP.
LR_POLICIES: dict[str, set[str]] = {
    "Step": {"step", "gamma", "min_lr"},
    "Exp": {"gamma"},
    "Poly": {"power", "min_lr"},
    "Inv": {"gamma", "power"},
    "CosineAnnealing": {"min_lr", "min_lr_ratio"},
    "FlatCosineAnnealing": {"start_percent", "min_lr", "min_lr_ratio"},
    "CosineRestart": {"periods", "restart_weights", "min_lr", "min_lr_ratio"},
    "LinearAnnealing": {"min_lr", "min_lr_ratio"},
    "Cyclic": {"target_ratio", "cyclic_times", "step_ratio_up", "anneal_strategy", "gamma"},
    "OneCycle": {"max_lr", "total_steps", "pct_start", "anneal_strategy", "div_factor",
                 "final_div_factor", "three_phase"},
    "Fixed": set(),
    "YOLOX": {"num_last_epochs", "min_lr_ratio"},
}
MOMENTUM_POLICIES: dict[str, set[str]] = {
    "Step": {"step", "gamma", "min_momentum"},
    "CosineAnnealing": {"min_momentum", "min_momentum_ratio"},
    "LinearAnnealing": {"min_momentum", "min_momentum_ratio"},
    "Cyclic": {"target_ratio", "cyclic_times", "step_ratio_up", "anneal_strategy", "gamma"},
    "OneCycle": {"base_momentum", "max_momentum", "pct_start", "anneal_strategy", "three_phase"},
}

# Keys each known section may hold. ``None`` for a nested key means "a dict checked elsewhere".
SECTIONS: dict[str, set[str]] = {
    "data": {"samples_per_gpu", "workers_per_gpu", "imgs_per_gpu", "train", "val", "test",
             "persistent_workers", "train_dataloader", "val_dataloader", "test_dataloader"},
    "optimizer_config": {"type", "grad_clip", "loss_scale", "cumulative_iters",
                         "detect_anomalous_params", "distributed", "coalesce", "bucket_size_mb"},
    "runner": {"type", "max_epochs", "max_iters"},
    "checkpoint_config": {"type", "interval", "by_epoch", "save_optimizer", "out_dir",
                          "max_keep_ckpts", "save_last", "sync_buffer", "file_client_args",
                          "priority"},
    "log_config": {"interval", "hooks", "ignore_last", "reset_flag", "by_epoch"},
    "evaluation": {"type", "interval", "start", "by_epoch", "metric", "save_best", "rule",
                   "greater_keys", "less_keys", "gpu_collect", "tmpdir", "broadcast_bn_buffer",
                   "dynamic_intervals", "out_dir", "file_client_args", "test_fn", "classwise",
                   "proposal_nums", "iou_thrs", "iou_thr", "metric_items", "jsonfile_prefix",
                   "scale_ranges", "nproc", "efficient_test"},
    "fp16": {"loss_scale", "enabled", "dtype"},
    "auto_scale_lr": {"enable", "base_batch_size"},
    "dist_params": {"backend", "port", "init_method", "timeout"},
}
_SUBSECTIONS: dict[str, set[str]] = {
    "data.train_dataloader": _LOADER_KEYS,
    "data.val_dataloader": _LOADER_KEYS,
    "data.test_dataloader": _LOADER_KEYS,
    "optimizer.paramwise_cfg": {"bias_lr_mult", "bias_decay_mult", "norm_decay_mult",
                                "dwconv_decay_mult", "dcn_offset_lr_mult", "custom_keys",
                                "bypass_duplicate", "decay_rate", "decay_type", "num_layers",
                                "flat_decay_mult"},
    "optimizer_config.grad_clip": {"max_norm", "norm_type", "error_if_nonfinite", "foreach"},
}

KNOWN_TOP_LEVEL = set(SECTIONS) | {
    "model", "optimizer", "lr_config", "momentum_config", "custom_hooks", "custom_imports",
    "log_level", "load_from", "resume_from", "auto_resume", "workflow", "opencv_num_threads",
    "mp_start_method", "work_dir", "gpu_ids", "seed", "deterministic", "device",
    "dataset_type", "data_root", "img_norm_cfg", "train_pipeline", "test_pipeline", "classes",
    "find_unused_parameters", "cudnn_benchmark", "total_epochs", "train_cfg", "test_cfg",
    "pretrained", "early_stopping", "channels_last", "auto_num_classes",
}


class ConfigValidationError(ValueError):
    """One or more problems found in a config; the message lists each with its fix."""


def _suggest(key: str, allowed: Iterable[str]) -> str:
    allowed = sorted(allowed)
    return did_you_mean(key, allowed) or f"allowed keys: {', '.join(allowed)}"


def _check_keys(section: Any, allowed: set[str], path: str, problems: list[str]) -> None:
    if not isinstance(section, dict):
        return
    for key in section:
        if key not in allowed:
            problems.append(f"'{path}.{key}' is not a known key; {_suggest(str(key), allowed)}")


def _policy_keys(section: dict, table: dict[str, set[str]]) -> set[str] | None:
    policy = section.get("policy")
    if not isinstance(policy, str):
        return None
    for name, keys in table.items():
        if name.lower() == policy.lower():
            return keys
    return None


def _optimizer_args(section: dict) -> set[str] | None:
    """Arguments of the torch optimizer named by ``optimizer.type`` (``None`` if not torch's)."""
    type_ = section.get("type")
    try:
        import torch.optim
    except ImportError:  # pragma: no cover - torch is a dependency
        return None
    cls = getattr(torch.optim, type_, None) if isinstance(type_, str) else None
    if not inspect.isclass(cls):
        return None
    params = inspect.signature(cls.__init__).parameters
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return None
    return {n for n in params if n not in ("self", "params")} | {"type", "paramwise_cfg",
                                                                  "constructor"}


def validate_config(cfg: Any) -> None:
    """Check sections and top-level keys; raise :class:`ConfigValidationError` listing all."""
    problems: list[str] = []
    for key in cfg:
        if key not in KNOWN_TOP_LEVEL:
            close = near_misses(str(key), KNOWN_TOP_LEVEL)
            if close:
                problems.append(f"'{key}' is not a known top-level key; did you mean "
                                f"{', '.join(repr(c) for c in close)}?")
    for name, allowed in SECTIONS.items():
        _check_keys(cfg.get(name), allowed, name, problems)
    for path, allowed in _SUBSECTIONS.items():
        parent, child = path.split(".")
        section = cfg.get(parent)
        if isinstance(section, dict):
            _check_keys(section.get(child), allowed, path, problems)
    for name, table in (("lr_config", LR_POLICIES), ("momentum_config", MOMENTUM_POLICIES)):
        section = cfg.get(name)
        if isinstance(section, dict):
            keys = _policy_keys(section, table)
            if keys is not None:
                _check_keys(section, keys | _WARMUP, name, problems)
    optimizer = cfg.get("optimizer")
    if isinstance(optimizer, dict):
        args = _optimizer_args(optimizer)
        if args is not None:
            _check_keys(optimizer, args, "optimizer", problems)
    if problems:
        where = f" in {cfg.filename}" if getattr(cfg, "filename", None) else ""
        raise ConfigValidationError(f"config problems{where}:\n  - " + "\n  - ".join(problems))
