"""The text and JSON training logs (mmcv 1.x's ``TextLoggerHook`` formats).

Text lines go through the runner's logger (and so to ``{work_dir}/{timestamp}.log``)::

    Epoch [1][50/500]\tlr: 2.000e-02, eta: 0:10:00, time: 0.500, data_time: 0.100, memory: 0, loss_cls: 0.6931, loss: 1.2345

``{work_dir}/{timestamp}.log.json`` gets one JSON object per line: first the run's ``meta``
(``env_info``, ``config``, ``seed``...) when there is one, then every log::

    {"mode": "train", "epoch": 1, "iter": 50, "lr": 0.02, "memory": 0, "data_time": 0.1, "loss_cls": 0.69315, "loss": 1.2345, "time": 0.5}

``memory`` is the peak CUDA memory in MB (max over ranks), 0 without CUDA; without CUDA the
peak resident memory of the process (``max_rss``, MB) is logged too.
"""  # noqa: E501

from __future__ import annotations

import datetime
import json
import os
import shutil
from collections import OrderedDict
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

from ...registry import HOOKS
from .logger_base import LoggerHook

__all__ = ["TextLoggerHook", "peak_rss_mb"]

_NOT_ITEMS = ("mode", "Epoch", "iter", "lr", "time", "data_time", "memory", "max_rss", "epoch")


def peak_rss_mb() -> int | None:
    """Peak resident memory of this process in MB (``None`` where ``resource`` is missing)."""
    try:
        import resource
        import sys
    except ImportError:  # pragma: no cover - Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak // 1024 if sys.platform != "darwin" else peak // (1024 * 1024))


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, (np.ndarray, torch.Tensor)):
        return obj.tolist()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj, key=str)
    return str(obj)


@HOOKS.register_module()
class TextLoggerHook(LoggerHook):
    """Write the text log (through ``runner.logger``) and the JSON log.

    Args:
        by_epoch: epoch-based runner (``Epoch [e][i/n]`` lines) or iteration-based
            (``Iter [i/n]``).
        interval: logging period in iterations.
        ignore_last: see :class:`LoggerHook`.
        reset_flag: see :class:`LoggerHook`.
        interval_exp_name: log ``Exp name: ...`` (``meta['exp_name']``) every this many
            iterations.
        out_dir: also copy the logs (files ending with ``out_suffix`` in the work dir) to
            ``out_dir/<name of work_dir>`` after the run.
        out_suffix: file suffixes copied to ``out_dir``.
        keep_local: keep the work-dir copies of those files when ``out_dir`` is set.
        file_client_args: must be ``None`` (local files only).
    """

    def __init__(self, by_epoch: bool = True, interval: int = 10, ignore_last: bool = True,
                 reset_flag: bool = False, interval_exp_name: int = 1000,
                 out_dir: str | None = None,
                 out_suffix: str | tuple[str, ...] = (".log.json", ".log", ".py"),
                 keep_local: bool = True, file_client_args: dict | None = None) -> None:
        super().__init__(interval, ignore_last, reset_flag, by_epoch)
        if file_client_args is not None:
            raise ValueError("TextLoggerHook: file_client_args is not supported (local files "
                             "only); remove it")
        if out_dir is not None and not isinstance(out_dir, str):
            raise TypeError(f"out_dir should be None or a str, got {out_dir!r}")
        self.time_sec_tot = 0.0
        self.interval_exp_name = interval_exp_name
        self.out_dir = out_dir
        self.out_suffix = out_suffix
        self.keep_local = keep_local
        self.json_log_path: str | None = None

    def before_run(self, runner: Any) -> None:
        super().before_run(runner)
        if self.out_dir is not None:
            self.out_dir = os.path.join(self.out_dir,
                                        os.path.basename(runner.work_dir.rstrip(os.sep)))
            runner.logger.info("Text logs will be saved to %s after the training process.",
                               self.out_dir)
        self.start_iter = runner.iter
        if runner.work_dir is not None:
            self.json_log_path = os.path.join(runner.work_dir, f"{runner.timestamp}.log.json")
        if runner.meta:
            self._dump_log(runner.meta, runner)

    def _get_max_memory(self, runner: Any) -> int:
        if not torch.cuda.is_available():
            return 0
        device = getattr(runner.model, "output_device", None)
        mem = torch.cuda.max_memory_allocated(device=device)
        mem_mb = torch.tensor([int(mem) // (1024 * 1024)], dtype=torch.int, device=device)
        if runner.world_size > 1:
            dist.reduce(mem_mb, 0, op=dist.ReduceOp.MAX)
        return int(mem_mb.item())

    def _log_info(self, log_dict: dict, runner: Any) -> None:
        if "exp_name" in runner.meta and (
                self.every_n_iters(runner, self.interval_exp_name)
                or (self.by_epoch and self.end_of_epoch(runner))):
            runner.logger.info("Exp name: %s", runner.meta["exp_name"])
        if log_dict["mode"] == "train":
            if isinstance(log_dict["lr"], dict):
                lr_str = " ".join(f"lr_{k}: {v:.3e}" for k, v in log_dict["lr"].items())
            else:
                lr_str = f"lr: {log_dict['lr']:.3e}"
            if self.by_epoch:
                log_str = (f"Epoch [{log_dict['epoch']}]"
                           f"[{log_dict['iter']}/{len(runner.data_loader)}]\t")
            else:
                log_str = f"Iter [{log_dict['iter']}/{runner.max_iters}]\t"
            log_str += f"{lr_str}, "
            if "time" in log_dict:
                self.time_sec_tot += log_dict["time"] * self.interval
                time_sec_avg = self.time_sec_tot / (runner.iter - self.start_iter + 1)
                eta_sec = time_sec_avg * (runner.max_iters - runner.iter - 1)
                log_str += f"eta: {datetime.timedelta(seconds=int(eta_sec))}, "
                log_str += (f"time: {log_dict['time']:.3f}, "
                            f"data_time: {log_dict['data_time']:.3f}, ")
                log_str += f"memory: {log_dict['memory']}, "
                if "max_rss" in log_dict:
                    log_str += f"max_rss: {log_dict['max_rss']}, "
        elif self.by_epoch:
            log_str = f"Epoch({log_dict['mode']}) [{log_dict['epoch']}][{log_dict['iter']}]\t"
        else:
            log_str = f"Iter({log_dict['mode']}) [{log_dict['iter']}]\t"
        items = []
        for name, val in log_dict.items():
            if name in _NOT_ITEMS:
                continue
            if isinstance(val, float):
                val = f"{val:.4f}"
            items.append(f"{name}: {val}")
        runner.logger.info(log_str + ", ".join(items))

    def _dump_log(self, log_dict: dict, runner: Any) -> None:
        if runner.rank != 0 or self.json_log_path is None:
            return
        json_log = OrderedDict((k, self._round_float(v)) for k, v in log_dict.items())
        with open(self.json_log_path, "a+", encoding="utf-8") as f:
            f.write(json.dumps(json_log, default=_jsonable) + "\n")

    def _round_float(self, items: Any) -> Any:
        if isinstance(items, list):
            return [self._round_float(item) for item in items]
        if isinstance(items, float):
            return round(float(items), 5)
        return items

    def log(self, runner: Any) -> OrderedDict:
        """Write the averaged log buffer as a text line and a JSON line; returns the dict."""
        if "eval_iter_num" in runner.log_buffer.output:
            cur_iter = runner.log_buffer.output.pop("eval_iter_num")
        else:
            cur_iter = self.get_iter(runner, inner_iter=True)
        log_dict: OrderedDict = OrderedDict(mode=self.get_mode(runner),
                                            epoch=self.get_epoch(runner), iter=cur_iter)
        if runner.optimizer is not None:
            cur_lr = runner.current_lr()
            log_dict["lr"] = ({k: v[0] for k, v in cur_lr.items()} if isinstance(cur_lr, dict)
                              else cur_lr[0])
        else:
            log_dict["lr"] = 0.0
        if "time" in runner.log_buffer.output:
            log_dict["memory"] = self._get_max_memory(runner)
            if not torch.cuda.is_available():
                rss = peak_rss_mb()
                if rss is not None:
                    log_dict["max_rss"] = rss
        log_dict.update(runner.log_buffer.output)
        self._log_info(log_dict, runner)
        self._dump_log(log_dict, runner)
        return log_dict

    def after_run(self, runner: Any) -> None:
        if self.out_dir is None or runner.work_dir is None:
            return
        os.makedirs(self.out_dir, exist_ok=True)
        suffixes = (self.out_suffix,) if isinstance(self.out_suffix, str) else self.out_suffix
        for name in sorted(os.listdir(runner.work_dir)):
            local = os.path.join(runner.work_dir, name)
            if not os.path.isfile(local) or not name.endswith(tuple(suffixes)):
                continue
            shutil.copyfile(local, os.path.join(self.out_dir, name))
            runner.logger.info("The file %s has been uploaded to %s.", local,
                               os.path.join(self.out_dir, name))
            if not self.keep_local:
                os.remove(local)
                runner.logger.info("%s was removed due to `keep_local=False`", local)
