"""The training engine: runners (the loop), hooks, optimizer building, checkpoints, seeds,
distributed helpers and logging (mmcv 1.7's runner semantics).

How ``train_detector`` uses it::

    logger = get_root_logger(f'{cfg.work_dir}/{timestamp}.log', cfg.log_level)
    meta = dict(env_info=format_env(collect_env()), config=cfg.pretty_text, seed=seed,
                exp_name=osp.basename(config_path))
    if distributed:  # after init_dist(launcher, **cfg.dist_params)
        model = build_ddp(model, cfg.device, broadcast_buffers=False,
                          find_unused_parameters=cfg.get('find_unused_parameters', False))
    else:
        model = model.to(cfg.device)  # the runner moves each batch to the model's device
    optimizer = build_optimizer(model, cfg.optimizer)
    runner = build_runner(cfg.runner, dict(model=model, optimizer=optimizer,
                                           work_dir=cfg.work_dir, logger=logger, meta=meta))
    runner.timestamp = timestamp  # so that {timestamp}.log and .log.json match
    runner.register_training_hooks(
        cfg.lr_config,
        build_optimizer_hook(cfg.optimizer_config, cfg.get('fp16'), distributed),
        cfg.checkpoint_config, cfg.log_config, cfg.get('momentum_config'),
        custom_hooks_config=cfg.get('custom_hooks'))
    if distributed and isinstance(runner, EpochBasedRunner):
        runner.register_hook(DistSamplerSeedHook())
    if validate:
        runner.register_hook(EvalHook(val_loader, **eval_cfg), priority='LOW')
    resume_from = cfg.resume_from or (find_latest_checkpoint(cfg.work_dir)
                                      if cfg.get('auto_resume') else None)
    if resume_from:
        runner.resume(resume_from)
    elif cfg.load_from:
        runner.load_checkpoint(cfg.load_from)
    runner.run(data_loaders, cfg.workflow)
"""

from . import hooks
from .builder import build_runner
from .checkpoint import find_latest_checkpoint, is_valid_checkpoint, save_checkpoint
from .dist import allreduce_params, get_dist_info, init_dist, master_only
from .env import collect_env, format_env
from .epoch_based_runner import EpochBasedRunner
from .hooks import HOOKS, DistSamplerSeedHook, Hook, build_optimizer_hook
from .iter_based_runner import IterBasedRunner, IterLoader
from .layer_decay_optimizer_constructor import LearningRateDecayOptimizerConstructor
from .log_buffer import LogBuffer
from .logging import get_root_logger
from .optim import DefaultOptimizerConstructor, build_optimizer
from .parallel import DetDistributedDataParallel, build_ddp, is_module_wrapper, unwrap_model
from .priority import Priority, get_priority
from .runner import BaseRunner, get_time_str
from .seed import init_random_seed, set_random_seed

__all__ = [
    "hooks", "build_runner", "find_latest_checkpoint", "is_valid_checkpoint", "save_checkpoint",
    "allreduce_params", "get_dist_info", "init_dist", "master_only", "collect_env", "format_env",
    "EpochBasedRunner", "HOOKS", "DistSamplerSeedHook", "Hook", "build_optimizer_hook",
    "IterBasedRunner", "IterLoader", "LogBuffer", "get_root_logger", "DefaultOptimizerConstructor",
    "build_optimizer", "DetDistributedDataParallel", "build_ddp", "is_module_wrapper",
    "unwrap_model", "Priority", "get_priority", "BaseRunner", "get_time_str",
    "init_random_seed", "set_random_seed", "LearningRateDecayOptimizerConstructor",
]
