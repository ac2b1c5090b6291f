"""Evaluation during training: ``EvalHook`` / ``DistEvalHook`` (mmcv 1.7 + MMDetection 2.28).

Register them as v2's ``train_detector`` does, with ``runner.register_hook(hook,
priority='LOW')`` (70): after ``CheckpointHook`` (NORMAL, 50), so the epoch's checkpoint
exists before evaluation, and before the logger hooks (VERY_LOW), which print the metrics.

At the end of every ``interval``-th epoch (or iteration with ``by_epoch=False``) the hook
runs the test function over its data loader, calls ``dataset.evaluate(results,
logger=runner.logger, **eval_kwargs)``, writes the metrics into ``runner.log_buffer.output``
(``ready = True``) and, with ``save_best``, keeps ``best_<key>_<epoch_N|iter_N>.pth`` for the
best score so far, deleting the previous best file. ``best_score`` and ``best_ckpt`` live in
``runner.meta['hook_msgs']``, which checkpoints carry, so the best survives a resume.

What the hooks use of the runner: ``model``, ``epoch``, ``iter``, ``work_dir``, ``meta``,
``logger``, ``log_buffer`` (``output``, ``ready``, ``clear()``), ``save_checkpoint(out_dir,
filename_tmpl=..., create_symlink=False)``, ``rank`` (DistEvalHook) and ``hooks`` (iteration
mode: the logger hooks write the iteration's training log before the evaluation).
"""

from __future__ import annotations

import bisect
import os
import os.path as osp
import re
import warnings
from math import inf
from typing import Any, Callable, Sequence

import torch.distributed as dist
from torch.nn.modules.batchnorm import _BatchNorm
from torch.utils.data import DataLoader

from ..engine.hooks.hook import Hook
from ..engine.hooks.logger_base import LoggerHook
from ..registry import HOOKS
from ..utils.safe_load import safe_torch_load
from .inference_loop import multi_gpu_test, single_gpu_test

__all__ = ["EvalHook", "DistEvalHook"]


def _calc_dynamic_intervals(start_interval: int, dynamic_intervals: Sequence
                            ) -> tuple[list[int], list[int]]:
    milestones, intervals = [0], [start_interval]
    for item in dynamic_intervals:
        if not isinstance(item, (list, tuple)) or len(item) != 2:
            raise ValueError(f"dynamic_intervals must be a list of (milestone, interval) pairs, "
                             f"got {dynamic_intervals!r}")
        milestones.append(int(item[0]))
        intervals.append(int(item[1]))
    return milestones, intervals


@HOOKS.register_module()
class EvalHook(Hook):
    """Evaluate on a validation data loader during (single-process) training.

    Args:
        dataloader: a ``torch.utils.data.DataLoader`` whose dataset has ``evaluate``.
        start: first epoch (iteration) to evaluate; when ``start`` <= the epoch a run resumes
            from, the hook also evaluates before training goes on. ``None``: only
            ``interval`` decides.
        interval: evaluate every ``interval`` epochs (iterations).
        by_epoch: count epochs (``True``) or iterations.
        save_best: metric key whose best value keeps a ``best_*.pth`` checkpoint;
            ``'auto'`` takes the first key ``evaluate`` returns; ``None`` keeps none.
        rule: ``'greater'`` or ``'less'``; inferred from the key when ``None`` (keys containing
            ``acc``, ``top``, ``AR@``, ``auc``, ``precision``, ``mAP``, ``mDice``, ``mIoU``,
            ``mAcc``, ``aAcc`` are greater-is-better, ``loss`` less-is-better;
            case-insensitive).
        test_fn: ``test_fn(model, dataloader) -> results``; :func:`single_gpu_test` by default.
        greater_keys: replace the greater-is-better key list.
        less_keys: replace the less-is-better key list.
        out_dir: where best checkpoints go: ``out_dir/<basename of work_dir>``; ``work_dir``
            when ``None``.
        file_client_args: only local disk is supported (``None`` or ``backend='disk'``).
        dynamic_intervals: ``[(milestone, interval), ...]``: from epoch (iteration)
            ``milestone`` on, use ``interval``.
        **eval_kwargs: passed to ``dataset.evaluate`` (``metric='bbox'``, ``classwise``...).
    """

    _accepts_any_kwargs = True  # eval_kwargs go to dataset.evaluate, not to a base class

    rule_map = {"greater": lambda x, y: x > y, "less": lambda x, y: x < y}
    init_value_map = {"greater": -inf, "less": inf}
    _default_greater_keys = ["acc", "top", "AR@", "auc", "precision", "mAP", "mDice", "mIoU",
                             "mAcc", "aAcc"]
    _default_less_keys = ["loss"]

    def __init__(self, dataloader: DataLoader, start: int | None = None, interval: int = 1,
                 by_epoch: bool = True, save_best: str | None = None, rule: str | None = None,
                 test_fn: Callable | None = None, greater_keys: Sequence[str] | None = None,
                 less_keys: Sequence[str] | None = None, out_dir: str | None = None,
                 file_client_args: dict | None = None,
                 dynamic_intervals: Sequence | None = None, **eval_kwargs: Any) -> None:
        if not isinstance(dataloader, DataLoader):
            raise TypeError(f"dataloader must be a pytorch DataLoader, but got "
                            f"{type(dataloader)}")
        if interval <= 0:
            raise ValueError(f"interval must be a positive number, but got {interval}")
        if not isinstance(by_epoch, bool):
            raise TypeError(f"by_epoch must be a bool, got {by_epoch!r}")
        if start is not None and start < 0:
            raise ValueError(f"The evaluation start epoch {start} is smaller than 0")
        if save_best is not None and not isinstance(save_best, str):
            raise TypeError(f"save_best must be a str or None, got {type(save_best).__name__}")
        if file_client_args is not None and file_client_args.get("backend", "disk") != "disk":
            raise NotImplementedError(f"EvalHook saves to local disk only; file_client_args "
                                      f"{file_client_args} is not supported")
        self.dataloader = dataloader
        self.interval = interval
        self.start = start
        self.by_epoch = by_epoch
        self.save_best = save_best
        self.eval_kwargs = eval_kwargs
        self.initial_flag = True
        self.test_fn = single_gpu_test if test_fn is None else test_fn
        self.greater_keys = self._key_list(greater_keys, self._default_greater_keys)
        self.less_keys = self._key_list(less_keys, self._default_less_keys)
        self.out_dir = out_dir
        self.file_client_args = file_client_args
        self.latest_results: list | None = None
        self.rule: str | None = None
        self.key_indicator: str | None = None
        if self.save_best is not None:
            self.best_ckpt_path: str | None = None
            self._init_rule(rule, self.save_best)
        self.use_dynamic_intervals = dynamic_intervals is not None
        if self.use_dynamic_intervals:
            self.dynamic_milestones, self.dynamic_intervals = _calc_dynamic_intervals(
                self.interval, dynamic_intervals)

    @staticmethod
    def _key_list(keys: Sequence[str] | str | None, default: list[str]) -> list[str]:
        if keys is None:
            return list(default)
        keys = [keys] if isinstance(keys, str) else list(keys)
        if not all(isinstance(k, str) for k in keys):
            raise TypeError(f"metric keys must be strings, got {keys!r}")
        return keys

    def _init_rule(self, rule: str | None, key_indicator: str) -> None:
        """Set ``rule``, ``key_indicator`` and ``compare_func`` (rule inferred from the key)."""
        if rule is not None and rule not in self.rule_map:
            raise KeyError(f"rule must be greater, less or None, but got {rule}.")
        if rule is None and key_indicator != "auto":
            key_lc = key_indicator.lower()
            greater = [k.lower() for k in self.greater_keys]
            less = [k.lower() for k in self.less_keys]
            if key_lc in greater:
                rule = "greater"
            elif key_lc in less:
                rule = "less"
            elif any(k in key_lc for k in greater):
                rule = "greater"
            elif any(k in key_lc for k in less):
                rule = "less"
            else:
                raise ValueError(f"Cannot infer the rule for key {key_indicator}, thus a "
                                 f"specific rule must be specified.")
        self.rule = rule
        self.key_indicator = key_indicator
        if self.rule is not None:
            self.compare_func = self.rule_map[self.rule]

    # ----------------------------------------------------------------- call points
    def before_run(self, runner: Any) -> None:
        if not self.out_dir:
            self.out_dir = runner.work_dir
        if "://" in str(self.out_dir):
            raise NotImplementedError(f"EvalHook saves to local disk only, got out_dir "
                                      f"{self.out_dir!r}")
        if self.out_dir != runner.work_dir:
            basename = osp.basename(runner.work_dir.rstrip(osp.sep))
            self.out_dir = osp.join(self.out_dir, basename)
            runner.logger.info(f"The best checkpoint will be saved to {self.out_dir}")
        if self.save_best is not None:
            if runner.meta is None:
                warnings.warn("runner.meta is None. Creating an empty one.", stacklevel=2)
                runner.meta = dict()
            runner.meta.setdefault("hook_msgs", dict())
            self.best_ckpt_path = runner.meta["hook_msgs"].get("best_ckpt", None)
            if (runner.epoch if self.by_epoch else runner.iter) > 0:
                self._recover_best(runner)

    def _recover_best(self, runner: Any) -> None:
        """After a resume, take the best score and file from the newest best checkpoint.

        The epoch's checkpoint is saved before its evaluation, so a resumed ``epoch_N.pth``
        does not know about a best found at epoch N: its ``best_score`` and ``best_ckpt`` are
        older. The newest ``best_<key>_<epoch|iter>_M.pth`` with M up to the resumed point
        carries the right ones in its meta (beyond mmcv, which leaves the old best file
        behind and compares with the older score).
        """
        progress = runner.epoch if self.by_epoch else runner.iter
        unit = "epoch" if self.by_epoch else "iter"
        key = ".+" if self.key_indicator == "auto" else re.escape(self.key_indicator)
        pattern = re.compile(rf"^best_({key})_{unit}_(\d+)\.pth$")
        if not osp.isdir(self.out_dir):
            return
        found = []
        for name in os.listdir(self.out_dir):
            match = pattern.match(name)
            if match and int(match.group(2)) <= progress:
                found.append((int(match.group(2)), name))
        if not found:
            return
        path = osp.join(self.out_dir, max(found)[1])
        if path == self.best_ckpt_path:
            return
        try:
            ckpt = safe_torch_load(path, map_location="cpu", mmap=True)
            msgs = (ckpt.get("meta") or {}).get("hook_msgs") or {}
        except Exception as err:  # noqa: BLE001 - an unreadable file keeps the resumed state
            runner.logger.warning(f"could not read the best checkpoint {path}: {err}")
            return
        if "best_score" not in msgs:
            return
        runner.meta["hook_msgs"]["best_score"] = msgs["best_score"]
        runner.meta["hook_msgs"]["best_ckpt"] = path
        self.best_ckpt_path = path
        runner.logger.info(f"Best {osp.basename(path)} (score {msgs['best_score']:.4f}) "
                           f"found in {self.out_dir}")

    def _decide_interval(self, runner: Any) -> None:
        if self.use_dynamic_intervals:
            progress = runner.epoch if self.by_epoch else runner.iter
            step = bisect.bisect(self.dynamic_milestones, progress + 1)
            self.interval = self.dynamic_intervals[step - 1]

    def before_train_epoch(self, runner: Any) -> None:
        """Pick the interval; evaluate before the first trained epoch if ``start`` allows."""
        self._decide_interval(runner)
        if not (self.by_epoch and self.initial_flag):
            return
        if self.start is not None and runner.epoch >= self.start:
            self.after_train_epoch(runner)
        self.initial_flag = False

    def before_train_iter(self, runner: Any) -> None:
        """Pick the interval; evaluate before the first trained iteration if ``start`` allows."""
        self._decide_interval(runner)
        if self.by_epoch or not self.initial_flag:
            return
        if self.start is not None and runner.iter >= self.start:
            self.after_train_iter(runner)
        self.initial_flag = False

    def after_train_iter(self, runner: Any) -> None:
        if not self.by_epoch and self._should_evaluate(runner):
            # print this iteration's training log first, so it is not mixed with the metrics
            for hook in runner.hooks:
                if isinstance(hook, LoggerHook):
                    hook.after_train_iter(runner)
            runner.log_buffer.clear()
            self._do_evaluate(runner)

    def after_train_epoch(self, runner: Any) -> None:
        if self.by_epoch and self._should_evaluate(runner):
            self._do_evaluate(runner)

    # ----------------------------------------------------------------- work
    def _should_evaluate(self, runner: Any) -> bool:
        """Whether this epoch (iteration) is an evaluation point.

        Without ``start``: every ``interval``-th one. With ``start``: ``start``,
        ``start + interval``, ... (1-based counts).
        """
        if self.by_epoch:
            current, check = runner.epoch, self.every_n_epochs
        else:
            current, check = runner.iter, self.every_n_iters
        if self.start is None:
            return bool(check(runner, self.interval))
        if current + 1 < self.start:
            return False
        return (current + 1 - self.start) % self.interval == 0

    def _do_evaluate(self, runner: Any) -> None:
        if not self._should_evaluate(runner):
            return
        results = self.test_fn(runner.model, self.dataloader)
        self.latest_results = results
        runner.log_buffer.output["eval_iter_num"] = len(self.dataloader)
        key_score = self.evaluate(runner, results)
        # a None (or zero) score does not make a best checkpoint, as in v2
        if self.save_best and key_score:
            self._save_ckpt(runner, key_score)

    def _save_ckpt(self, runner: Any, key_score: float) -> None:
        """Keep a checkpoint of this epoch (iteration) if ``key_score`` is the best so far."""
        if self.by_epoch:
            current, cur_type, cur_time = f"epoch_{runner.epoch + 1}", "epoch", runner.epoch + 1
        else:
            current, cur_type, cur_time = f"iter_{runner.iter + 1}", "iter", runner.iter + 1
        hook_msgs = runner.meta["hook_msgs"]
        best_score = hook_msgs.get("best_score", self.init_value_map[self.rule])
        if not self.compare_func(key_score, best_score):
            return
        best_score = key_score
        hook_msgs["best_score"] = best_score
        if self.best_ckpt_path and osp.isfile(self.best_ckpt_path):
            os.remove(self.best_ckpt_path)
            runner.logger.info(f"The previous best checkpoint {self.best_ckpt_path} was removed")
        best_ckpt_name = f"best_{self.key_indicator}_{current}.pth"
        self.best_ckpt_path = osp.join(self.out_dir, best_ckpt_name)
        hook_msgs["best_ckpt"] = self.best_ckpt_path
        os.makedirs(self.out_dir, exist_ok=True)
        runner.save_checkpoint(self.out_dir, filename_tmpl=best_ckpt_name, create_symlink=False)
        runner.logger.info(f"Now best checkpoint is saved as {best_ckpt_name}.")
        runner.logger.info(f"Best {self.key_indicator} is {best_score:0.4f} at {cur_time} "
                           f"{cur_type}.")

    def evaluate(self, runner: Any, results: list) -> Any:
        """Evaluate ``results`` with the dataset, log the metrics, return the key score."""
        eval_res = self.dataloader.dataset.evaluate(results, logger=runner.logger,
                                                    **self.eval_kwargs)
        for name, val in eval_res.items():
            runner.log_buffer.output[name] = val
        runner.log_buffer.ready = True
        if self.save_best is None:
            return None
        if not eval_res:
            warnings.warn("Since `eval_res` is an empty dict, the behavior to save the best "
                          "checkpoint will be skipped in this evaluation.", stacklevel=2)
            return None
        if self.key_indicator == "auto":
            self._init_rule(self.rule, list(eval_res.keys())[0])
        if self.key_indicator not in eval_res:
            raise KeyError(f"save_best={self.key_indicator!r} is not a metric of this "
                           f"evaluation; it returned {list(eval_res)}")
        return eval_res[self.key_indicator]


@HOOKS.register_module()
class DistEvalHook(EvalHook):
    """:class:`EvalHook` for distributed training: every rank tests its share, rank 0
    evaluates and keeps the best checkpoint.

    Args:
        tmpdir: kept for v2 compatibility (results are gathered in memory).
        gpu_collect: kept for v2 compatibility.
        broadcast_bn_buffer: copy rank 0's BatchNorm running statistics to all ranks before
            testing (DDP does not synchronise them).
        Others: as :class:`EvalHook` (``test_fn`` defaults to :func:`multi_gpu_test` and is
            called with ``tmpdir`` and ``gpu_collect``).
    """

    def __init__(self, dataloader: DataLoader, start: int | None = None, interval: int = 1,
                 by_epoch: bool = True, save_best: str | None = None, rule: str | None = None,
                 test_fn: Callable | None = None, greater_keys: Sequence[str] | None = None,
                 less_keys: Sequence[str] | None = None, broadcast_bn_buffer: bool = True,
                 tmpdir: str | None = None, gpu_collect: bool = False,
                 out_dir: str | None = None, file_client_args: dict | None = None,
                 dynamic_intervals: Sequence | None = None, **eval_kwargs: Any) -> None:
        super().__init__(
            dataloader, start=start, interval=interval, by_epoch=by_epoch, save_best=save_best,
            rule=rule, test_fn=multi_gpu_test if test_fn is None else test_fn,
            greater_keys=greater_keys, less_keys=less_keys, out_dir=out_dir,
            file_client_args=file_client_args, dynamic_intervals=dynamic_intervals,
            **eval_kwargs)
        self.broadcast_bn_buffer = broadcast_bn_buffer
        self.tmpdir = tmpdir
        self.gpu_collect = gpu_collect

    def _broadcast_bn_buffers(self, runner: Any) -> None:
        if not (dist.is_available() and dist.is_initialized()):
            return
        for _, module in runner.model.named_modules():
            if isinstance(module, _BatchNorm) and module.track_running_stats:
                dist.broadcast(module.running_var, 0)
                dist.broadcast(module.running_mean, 0)

    def _do_evaluate(self, runner: Any) -> None:
        if self.broadcast_bn_buffer:
            self._broadcast_bn_buffers(runner)
        if not self._should_evaluate(runner):
            return
        tmpdir = self.tmpdir or osp.join(runner.work_dir, ".eval_hook")
        results = self.test_fn(runner.model, self.dataloader, tmpdir=tmpdir,
                               gpu_collect=self.gpu_collect)
        self.latest_results = results
        rank = getattr(runner, "rank", None)
        if rank is None:
            rank = dist.get_rank() if dist.is_available() and dist.is_initialized() else 0
        if rank == 0:
            runner.log_buffer.output["eval_iter_num"] = len(self.dataloader)
            key_score = self.evaluate(runner, results)
            if self.save_best and key_score:
                self._save_ckpt(runner, key_score)
