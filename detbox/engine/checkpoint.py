"""Saving training checkpoints safely, and finding the newest one to resume from.

A checkpoint is MMDetection v2's ``{'meta': {...}, 'state_dict': {...}, 'optimizer': {...}}``.
Every file is first written to a hidden temporary file in the same folder and then moved into
place with ``os.replace`` (atomic on POSIX and Windows), so a crash or a full disk during a
save never leaves a truncated ``epoch_N.pth`` or a ``latest.pth`` that points to one.

Only plain data goes into a checkpoint (:func:`plain_data`: tensors, numbers, strings, lists,
dicts, numpy scalars and arrays), so that detbox's own files always load with
``weights_only=True`` (:mod:`detbox.utils.safe_load`), resume included.
"""

from __future__ import annotations

import glob
import logging
import os
import re
import shutil
import tempfile
import time
import zipfile
from collections import OrderedDict
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

from ..utils.safe_load import CheckpointError, UnsafeCheckpointError, safe_torch_load
from .parallel import unwrap_model

__all__ = ["save_checkpoint", "weights_to_cpu", "get_state_dict", "atomic_write", "plain_data",
           "link_latest", "find_latest_checkpoint", "is_valid_checkpoint", "CKPT_PATTERN"]

_LOGGER = logging.getLogger(__name__)

# ``epoch_12.pth`` / ``iter_5000.pth`` as the checkpoint hook names them.
CKPT_PATTERN = re.compile(r"^(epoch|iter)_(\d+)\.pth$")


def weights_to_cpu(state_dict: dict) -> OrderedDict:
    """A copy of ``state_dict`` with every tensor on the CPU (``_metadata`` kept)."""
    out: OrderedDict = OrderedDict(
        (k, v.detach().cpu() if isinstance(v, torch.Tensor) else v) for k, v in state_dict.items())
    metadata = getattr(state_dict, "_metadata", None)
    if metadata is not None:
        out._metadata = metadata
    return out


def get_state_dict(model: nn.Module) -> OrderedDict:
    """The model's state_dict without the ``module.`` of (Distributed)DataParallel, on CPU."""
    return weights_to_cpu(unwrap_model(model).state_dict())


_SCALARS = (type(None), bool, int, float, complex, bytes, torch.dtype, torch.device, torch.Size,
            np.generic, np.dtype)


def plain_data(value: Any, where: str = "meta") -> Any:
    """``value`` with only the types :func:`~detbox.utils.safe_load.safe_torch_load` allows.

    Containers are rebuilt as ``dict``/``OrderedDict``/``list``/``tuple``/``set``; a ``str``
    subclass (``torch.__version__``) becomes a ``str``; numpy object arrays become lists; any
    other object becomes its ``repr`` string, with a warning naming ``where`` it was.

    >>> plain_data({'a': [1, (2.0, 'x')], 'b': object()})['b'].startswith('<object')
    True
    """
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, np.ndarray):
        return value if value.dtype != object else plain_data(value.tolist(), where)
    if isinstance(value, dict):
        out = OrderedDict() if isinstance(value, OrderedDict) else {}
        for key, item in value.items():
            out[plain_data(key, where)] = plain_data(item, f"{where}.{key}")
        metadata = getattr(value, "_metadata", None)
        if metadata is not None and isinstance(out, OrderedDict):
            out._metadata = plain_data(metadata, f"{where}._metadata")
        return out
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [plain_data(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, (set, frozenset)):
            return set(items)
        if isinstance(value, tuple) and not hasattr(value, "_fields"):
            return tuple(items)
        return items  # lists, and namedtuples (their class is not plain data)
    _LOGGER.warning("checkpoint %s: a %s is not plain data; saved as its repr string so that "
                    "the file loads safely", where, type(value).__name__)
    return repr(value)


def atomic_write(path: str, write: Callable[[Any], None]) -> None:
    """Call ``write(file_object)`` on a temporary file next to ``path``, then move it there.

    On any error the temporary file is removed and ``path`` keeps its previous content.
    """
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def save_checkpoint(model: nn.Module, filename: str,
                    optimizer: torch.optim.Optimizer | dict | None = None,
                    meta: dict | None = None) -> dict:
    """Save ``{'meta', 'state_dict', 'optimizer'}`` to ``filename`` atomically.

    ``meta`` gains ``detbox_version``, ``time`` and, when the model has them, ``CLASSES``.

    Args:
        model: the model (wrappers are unwrapped; tensors are saved on CPU).
        filename: where to write.
        optimizer: an optimizer, a dict of them, or ``None`` to leave it out.
        meta: extra information (epoch, iter, config text, seed, env_info, hook_msgs...).

    Returns:
        The meta dict written.
    """
    from .. import __version__

    if meta is None:
        meta = {}
    elif not isinstance(meta, dict):
        raise TypeError(f"meta must be a dict or None, but got {type(meta).__name__}")
    meta = dict(meta)
    meta.update(detbox_version=__version__, time=time.asctime())
    inner = unwrap_model(model)
    classes = getattr(inner, "CLASSES", None)
    if classes is not None:
        meta["CLASSES"] = classes
    checkpoint: dict[str, Any] = {"meta": plain_data(meta, "meta"),
                                  "state_dict": get_state_dict(inner)}
    if isinstance(optimizer, torch.optim.Optimizer):
        checkpoint["optimizer"] = plain_data(optimizer.state_dict(), "optimizer")
    elif isinstance(optimizer, dict):
        checkpoint["optimizer"] = {name: plain_data(opt.state_dict(), f"optimizer.{name}")
                                   for name, opt in optimizer.items()}
    elif optimizer is not None:
        raise TypeError(f"optimizer must be an Optimizer, a dict or None, got {type(optimizer)}")
    atomic_write(filename, lambda f: torch.save(checkpoint, f))
    return meta


def link_latest(filepath: str, link_name: str = "latest.pth", symlink: bool = True) -> str:
    """Point ``link_name`` (next to ``filepath``) at ``filepath``, replacing it atomically.

    A relative symlink is made when ``symlink`` and the filesystem allow it; otherwise the file
    is copied (also through a temporary file).

    Returns:
        The path of the link (or copy).
    """
    folder = os.path.dirname(os.path.abspath(filepath))
    dst = os.path.join(folder, link_name)
    if symlink:
        tmp = os.path.join(folder, f".{link_name}.{os.getpid()}.tmp")
        try:
            if os.path.lexists(tmp):
                os.remove(tmp)
            os.symlink(os.path.basename(filepath), tmp)
            os.replace(tmp, dst)
            return dst
        except (OSError, NotImplementedError) as err:
            if os.path.lexists(tmp):
                os.remove(tmp)
            _LOGGER.debug("could not symlink %s (%s); copying instead", dst, err)

    def copy(f: Any) -> None:
        with open(filepath, "rb") as src:
            shutil.copyfileobj(src, f)

    atomic_write(dst, copy)
    return dst


def is_valid_checkpoint(path: str) -> bool:
    """Whether ``path`` is a complete checkpoint file.

    Files in torch's zip format (every ``torch.save`` since torch 1.6) are checked by reading
    their zip directory, which a truncated file lacks; other files by loading them.
    """
    if not os.path.isfile(path):
        return False
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                return any(name.endswith("data.pkl") for name in archive.namelist())
        except (zipfile.BadZipFile, OSError):
            return False
    try:
        safe_torch_load(path, map_location="cpu")
        return True
    except UnsafeCheckpointError:
        return True  # complete; loading it for the resume then refuses it with the opt-in
    except CheckpointError:
        return False


def find_latest_checkpoint(work_dir: str, suffix: str = "pth") -> str | None:
    """The newest complete ``epoch_N.pth``/``iter_N.pth`` in ``work_dir`` (for ``--auto-resume``).

    Checkpoints are ranked by N (highest first); a corrupt or truncated one is skipped with a
    warning. When no numbered checkpoint is usable, a valid ``latest.pth`` is returned;
    ``None`` when nothing is found.
    """
    if not os.path.isdir(work_dir):
        _LOGGER.warning("no checkpoint to resume: %s does not exist", work_dir)
        return None
    pattern = re.compile(rf"^(epoch|iter)_(\d+)\.{re.escape(suffix)}$")
    ranked = []
    for path in glob.glob(os.path.join(work_dir, f"*.{suffix}")):
        match = pattern.match(os.path.basename(path))
        if match:
            ranked.append((int(match.group(2)), os.path.getmtime(path), path))
    for _, _, path in sorted(ranked, reverse=True):
        if is_valid_checkpoint(path):
            return path
        _LOGGER.warning("skipping %s: not a complete checkpoint", path)
    latest = os.path.join(work_dir, f"latest.{suffix}")
    if is_valid_checkpoint(latest):
        return latest
    _LOGGER.warning("no checkpoint to resume found in %s", work_dir)
    return None
