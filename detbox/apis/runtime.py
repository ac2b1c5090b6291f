"""What every tool does around its work: process settings, and clear errors for user mistakes.

:func:`run_tool` runs a tool's ``main`` and turns the mistakes a user can make (a missing
file, a typo in the config, a checkpoint of another model, contradictory options) into one
``error: ...`` message on stderr and exit status 1, instead of a traceback. Programming
errors still show their traceback; so does everything with ``--debug`` on the command line
(any tool) or ``DETBOX_DEBUG=1`` in the environment.
"""

from __future__ import annotations

import logging
import os
import platform
import re
import sys
import warnings
from collections import OrderedDict
from typing import Any, Callable

from ..config.validate import ConfigValidationError
from ..registry import ConfigArgumentError, UnknownTypeError
from ..utils.malloc import tune_malloc
from ..utils.safe_load import CheckpointError, UnsafeCheckpointError

__all__ = ["UsageError", "CheckpointError", "UnsafeCheckpointError", "USER_ERRORS", "run_tool",
           "read_checkpoint",
           "checkpoint_state_for", "check_test_options", "setup_multi_processes"]


class UsageError(ValueError):
    """Options or inputs of a tool that cannot work (contradictory, missing, not found)."""


# Exceptions that describe a user's mistake well enough on their own.
USER_ERRORS: tuple[type[BaseException], ...] = (
    OSError, SyntaxError, ImportError, ConfigValidationError, ConfigArgumentError,
    UnknownTypeError, UsageError, CheckpointError,
)


def _is_user_error(err: BaseException) -> bool:
    if isinstance(err, USER_ERRORS):
        return True
    data_check = sys.modules.get("detbox.datasets.data_check")  # imported only if used
    return data_check is not None and isinstance(err, data_check.DataCheckError)


def _log_to_files(message: str) -> None:
    """Write ``message`` into the log files of the ``detbox`` logger (not the console)."""
    logger = logging.getLogger("detbox")
    record = logger.makeRecord(logger.name, logging.ERROR, __file__, 0, message, None, None)
    for handler in logger.handlers:
        if isinstance(handler, logging.FileHandler):
            handler.handle(record)


def run_tool(main: Callable[[], Any], debug: bool | None = None) -> int:
    """Call ``main()``; return the exit status (0, 1 for a user error, 130 if interrupted).

    ``--debug`` is taken out of ``sys.argv`` (so every tool accepts it) and, like ``debug``
    or ``DETBOX_DEBUG=1``, shows the traceback of user errors too.
    """
    if debug is None:
        debug = os.environ.get("DETBOX_DEBUG", "") not in ("", "0")
    if "--debug" in sys.argv[1:]:
        sys.argv = [a for i, a in enumerate(sys.argv) if i == 0 or a != "--debug"]
        debug = True
    tune_malloc()  # big tensors stay in the heap: ~15% faster on CPU (see detbox.utils.malloc)
    try:
        main()
    except Exception as err:
        if debug or not _is_user_error(err):
            raise
        message = str(err).strip() or type(err).__name__
        if isinstance(err, SyntaxError) and err.filename:
            message = f"{err.filename}:{err.lineno}: {err.msg}"
        _log_to_files(f"error: {message}")
        print(f"error: {message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        _log_to_files("interrupted")
        print("interrupted", file=sys.stderr)
        return 130
    return 0


def check_test_options(out: str | None, eval_metrics: Any, format_only: bool, show: bool,
                       show_dir: str | None) -> None:
    """Refuse ``tools/test.py`` options that cannot work together (before any loading).

    Raises:
        UsageError: nothing to do; ``--eval`` with ``--format-only``; ``--out`` not a pickle.
    """
    if not (out or eval_metrics or format_only or show or show_dir):
        raise UsageError("nothing to do: give at least one of --out, --eval, --format-only, "
                         "--show, --show-dir")
    if eval_metrics and format_only:
        raise UsageError("--eval and --format-only cannot be both specified")
    if out is not None and not out.endswith((".pkl", ".pickle")):
        raise UsageError(f"--out must name a .pkl or .pickle file, got {out}")


def read_checkpoint(path: str) -> dict:
    """Load a checkpoint file or name (``https://...``, ``torchvision://...``) on the CPU.

    Raises:
        FileNotFoundError: no such file.
        CheckpointError: the file is not a readable checkpoint (truncated, not torch's).
        UnsafeCheckpointError: it holds objects outside the allow-list (not trusted).
    """
    from ..utils.checkpoint import load_checkpoint_file

    if "://" not in path and not os.path.isfile(path):
        raise FileNotFoundError(f"checkpoint file not found: {path}")
    try:
        ckpt = load_checkpoint_file(path, map_location="cpu")  # URLs: found or downloaded
    except UnsafeCheckpointError:
        raise
    except RuntimeError as err:
        raise CheckpointError(f"{err} (a truncated file, or not a checkpoint)") from err
    if not isinstance(ckpt, dict):
        raise CheckpointError(f"{path} is not a checkpoint: it holds a {type(ckpt).__name__}, "
                              f"not a dict of weights")
    return ckpt


def checkpoint_state_for(model: Any, ckpt: dict, path: str, config: str = "") -> OrderedDict:
    """The checkpoint's state_dict (``module.`` prefixes removed), checked against ``model``.

    Keys of the file that the model lacks (EMA copies, extra heads) are allowed.

    Raises:
        CheckpointError: weights of the model missing from the file, or of other shapes (a
            checkpoint of another config); the message counts them and names one of each.
    """
    import torch

    state = ckpt.get("state_dict", ckpt)
    state = OrderedDict((re.sub(r"^module\.", "", k), v) for k, v in state.items())
    own = model.state_dict()
    missing = [k for k in own if k not in state and "num_batches_tracked" not in k]
    mismatched = [(k, tuple(v.shape), tuple(own[k].shape)) for k, v in state.items()
                  if k in own and isinstance(v, torch.Tensor) and v.shape != own[k].shape]
    if missing or mismatched:
        parts = []
        if missing:
            parts.append(f"{len(missing)} weights of the model are not in it (e.g. "
                         f"{missing[0]})")
        if mismatched:
            key, file_shape, model_shape = mismatched[0]
            parts.append(f"{len(mismatched)} weights have other shapes (e.g. {key}: "
                         f"{file_shape} in the file, {model_shape} in the model)")
        of = f" of {config}" if config else ""
        raise CheckpointError(f"checkpoint {path} does not fit the model{of}: "
                              f"{'; '.join(parts)}; is it a checkpoint of another config?")
    return state


def setup_multi_processes(cfg: Any) -> None:
    """Process settings from the config, as MMDetection 2.28's tools apply them.

    - ``mp_start_method`` (default ``'fork'``) for data loader workers (not on Windows);
    - ``opencv_num_threads`` (default 0: OpenCV single-threaded);
    - ``OMP_NUM_THREADS`` / ``MKL_NUM_THREADS`` set to 1 when unset and the loaders use more
      than one worker process (affects the worker processes started afterwards).
    """
    import cv2
    import torch.multiprocessing as mp

    if platform.system() != "Windows":
        method = cfg.get("mp_start_method", "fork")
        current = mp.get_start_method(allow_none=True)
        if current is not None and current != method:
            warnings.warn(f"Multi-processing start method '{method}' is different from the "
                          f"previous setting '{current}'; it is set to '{method}' (change "
                          f"mp_start_method in the config to keep it)", stacklevel=2)
        mp.set_start_method(method, force=True)
    cv2.setNumThreads(cfg.get("opencv_num_threads", 0))
    data = cfg.get("data") or {}
    workers = data.get("workers_per_gpu", 1)
    train_loader = data.get("train_dataloader") or {}
    workers = max(train_loader.get("workers_per_gpu", 1), workers)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        if var not in os.environ and workers > 1:
            os.environ[var] = "1"
