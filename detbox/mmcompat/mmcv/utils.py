"""``mmcv.utils``: registries, building, imports, logging and small type checks."""

from __future__ import annotations

import logging
import os
import re
from typing import Any, Callable, Iterable, Sequence

from detbox.config import Config, ConfigDict, DictAction, import_modules_from_strings
from detbox.engine.env import collect_env
from detbox.evaluation.report import print_log
from detbox.registry import Registry as _Registry
from detbox.registry import build_from_cfg

__all__ = [
    "Registry", "build_from_cfg", "import_modules_from_strings", "get_logger", "print_log",
    "Config", "ConfigDict", "DictAction", "collect_env", "is_str", "is_list_of",
    "is_tuple_of", "is_seq_of", "mkdir_or_exist", "to_2tuple", "track_progress",
    "track_iter_progress", "digit_version", "get_git_hash",
]


class Registry(_Registry):
    """mmcv's ``Registry(name, build_func=None, parent=None, scope=None)`` on detbox's flat
    registry: ``parent`` and ``scope`` are accepted and ignored (detbox has no registry
    trees; register into ``MODELS``, ``PIPELINES``... directly to reach detbox's builders)."""

    def __init__(self, name: str, build_func: Callable | None = None, parent: Any = None,
                 scope: str | None = None) -> None:
        super().__init__(name)
        self._build_func = build_func

    def build(self, cfg: dict, default_args: dict | None = None, *args: Any) -> Any:
        if self._build_func is not None:
            return self._build_func(cfg, *args, registry=self, default_args=default_args)
        return super().build(cfg, default_args)


def get_logger(name: str, log_file: str | None = None, log_level: int = logging.INFO,
               file_mode: str = "w") -> logging.Logger:
    """A logger with a console handler (and a file handler when ``log_file`` is given)."""
    logger = logging.getLogger(name)
    if not logger.handlers:
        logger.addHandler(logging.StreamHandler())
    if log_file is not None:
        handler = logging.FileHandler(log_file, file_mode)
        handler.setFormatter(logging.Formatter("%(asctime)s - %(name)s - %(levelname)s - "
                                               "%(message)s"))
        logger.addHandler(handler)
    logger.setLevel(log_level)
    return logger


def is_str(x: Any) -> bool:
    return isinstance(x, str)


def is_seq_of(seq: Any, expected_type: type, seq_type: type | None = None) -> bool:
    """Whether ``seq`` is a sequence (of ``seq_type``) whose items are all ``expected_type``."""
    if not isinstance(seq, seq_type or Sequence):
        return False
    return all(isinstance(item, expected_type) for item in seq)


def is_list_of(seq: Any, expected_type: type) -> bool:
    return is_seq_of(seq, expected_type, list)


def is_tuple_of(seq: Any, expected_type: type) -> bool:
    return is_seq_of(seq, expected_type, tuple)


def mkdir_or_exist(dir_name: str, mode: int = 0o777) -> None:
    if dir_name:
        os.makedirs(os.path.expanduser(dir_name), mode=mode, exist_ok=True)


def to_2tuple(x: Any) -> tuple:
    """``x`` if it is iterable (as a tuple), else ``(x, x)``."""
    return tuple(x) if isinstance(x, Iterable) and not isinstance(x, str) else (x, x)


def track_progress(func: Callable, tasks: Sequence, bar_width: int = 50, **kwargs: Any) -> list:
    """``[func(t) for t in tasks]`` with a progress bar."""
    from tqdm import tqdm

    return [func(task) for task in tqdm(tasks)]


def track_iter_progress(tasks: Sequence, bar_width: int = 50, **kwargs: Any) -> Iterable:
    """Iterate over ``tasks`` with a progress bar."""
    from tqdm import tqdm

    return tqdm(tasks)


def digit_version(version_str: str, length: int = 4) -> tuple[int, ...]:
    """``'1.7.2'`` -> ``(1, 7, 2, 0, 0, 0)``-like tuple for comparisons (pre-releases sort
    before the release, as in mmcv)."""
    main = [int(p) for p in re.findall(r"\d+", version_str.split("rc")[0].split("+")[0])]
    main = (main + [0] * length)[:length]
    pre = re.search(r"rc(\d+)", version_str)
    return (*main, -1, int(pre.group(1))) if pre else (*main, 0, 0)


def get_git_hash(fallback: str = "unknown", digits: int | None = None) -> str:
    """The current git commit of the working directory, or ``fallback``."""
    import subprocess

    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=5, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return fallback
    return out[:digits] if digits else out
