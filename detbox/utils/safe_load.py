"""Reading checkpoint files without running code from them.

A ``.pth`` file is a pickle: loading it with ``torch.load(weights_only=False)`` calls whatever
functions the file names, so a checkpoint downloaded from a forum can run any code. Every
checkpoint read of detbox (``init_detector``, ``load_checkpoint``, ``load_from``,
``resume_from``, ``--auto-resume``, ``init_cfg=dict(type='Pretrained')``, ``tools/test.py``,
the model converters) goes through :func:`safe_torch_load`, which loads with
``weights_only=True`` and an allow-list of the plain types real checkpoints hold:

- tensors, numbers, strings, bytes, ``None``, lists, tuples, sets, dicts, ``OrderedDict``
  (torch's own weights-only set);
- numpy scalars, arrays and dtypes (MMDetection v2 writes ``meta['hook_msgs']['best_score']``
  as a ``numpy.float64``), under numpy 1's and numpy 2's module names;
- ``torch.torch_version.TorchVersion`` (a ``str``; some files record ``torch.__version__``).

That covers MMDetection v2's zoo files (``meta`` with the config text, ``CLASSES``, versions,
epoch/iter and ``hook_msgs``), torchvision's weight files, the original Swin/PVT release files
and detbox's own checkpoints (:func:`detbox.engine.checkpoint.save_checkpoint` writes only
these types). Any other object is refused with :class:`UnsafeCheckpointError`, naming the file
and the type; nothing from the file runs. To load such a file anyway, trust it explicitly:
``--trust-checkpoint`` on the tools, ``trust_checkpoint=True`` in the Python API (or the
:func:`trusted_checkpoints` context), or the environment variable ``DETBOX_TRUST_CHECKPOINTS=1``.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import pickle
import re
from typing import Any, Callable, Iterator

import torch

__all__ = ["CheckpointError", "UnsafeCheckpointError", "safe_torch_load", "trusted_checkpoints",
           "trusting_checkpoints", "allowed_globals", "TRUST_ENV", "TRUST_HINT"]

_LOGGER = logging.getLogger(__name__)

TRUST_ENV = "DETBOX_TRUST_CHECKPOINTS"
TRUST_HINT = ("If you trust where the file comes from, allow it explicitly: --trust-checkpoint "
              "(tools), trust_checkpoint=True (Python API) or the environment variable "
              f"{TRUST_ENV}=1.")

_TRUST: contextvars.ContextVar[bool] = contextvars.ContextVar("detbox_trust_checkpoints",
                                                              default=False)


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be used: unreadable, unsafe, or its weights do not fit."""


class UnsafeCheckpointError(CheckpointError):
    """A checkpoint that holds objects outside the allow-list; it was not loaded."""


@contextlib.contextmanager
def trusted_checkpoints(enabled: bool = True) -> Iterator[None]:
    """Within the block, checkpoints are loaded in full (``weights_only=False``) if ``enabled``.

    >>> with trusted_checkpoints():
    ...     trusting_checkpoints()
    True
    """
    token = _TRUST.set(bool(enabled) or _TRUST.get())
    try:
        yield
    finally:
        _TRUST.reset(token)


def trusting_checkpoints(trust: bool | None = None) -> bool:
    """Whether checkpoints may run code: ``trust`` if given, else the context or the env var."""
    if trust is not None:
        return bool(trust)
    return _TRUST.get() or os.environ.get(TRUST_ENV, "") not in ("", "0", "false", "False")


def _numpy_globals() -> list[Any]:
    """numpy's scalar/array reconstruction, under the module names of numpy 1 and 2."""
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - numpy is a dependency
        return []
    core = getattr(np, "_core", None) or np.core
    multiarray = core.multiarray
    out: list[Any] = [np.ndarray, np.dtype]
    for name in ("scalar", "_reconstruct"):
        func = getattr(multiarray, name)
        out.append(func)
        for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
            out.append((func, f"{module}.{name}"))
    dtype_classes = {type(np.dtype(code)) for code in np.typecodes["All"]}
    out.extend(sorted(dtype_classes - {np.dtype}, key=lambda t: t.__name__))
    return out


def allowed_globals() -> list[Any]:
    """The globals beyond torch's weights-only set that a checkpoint may reference."""
    out = _numpy_globals()
    try:
        from torch.torch_version import TorchVersion

        out.append(TorchVersion)
    except ImportError:  # pragma: no cover
        pass
    return out


def _global_name(item: Any) -> str:
    if isinstance(item, tuple):
        return item[1]
    return f"{item.__module__}.{item.__qualname__}"


def _allowed_names() -> set[str]:
    from torch import _weights_only_unpickler as wou

    names = set(wou._get_allowed_globals()) | {_global_name(g) for g in allowed_globals()}
    return names


def _offending(path: str, err: BaseException) -> list[str]:
    """The globals of ``path`` outside the allow-list (from the zip's pickle, else the error)."""
    names: list[str] = []
    getter: Callable | None = getattr(torch.serialization, "get_unsafe_globals_in_checkpoint",
                                      None)
    if getter is not None:
        try:
            allowed = _allowed_names()
            names = [n for n in getter(path) if n not in allowed]
        except Exception:  # noqa: BLE001 - legacy (non-zip) files: read the error instead
            names = []
    if not names:
        text = str(err)
        names = re.findall(r"GLOBAL (\S+)", text)
        names += re.findall(r"but got <class '([^']+)'>", text)
    return list(dict.fromkeys(names))


def _weights_only_reason(err: BaseException) -> str:
    """The weights-only unpickler's own reason, without torch's generic advice."""
    text = str(err)
    match = re.search(r"WeightsUnpickler error:\s*(.+?)(?:\n\n|$)", text, re.S)
    return (match.group(1) if match else text).strip().splitlines()[0][:300]


def safe_torch_load(path: str | os.PathLike, map_location: Any = "cpu",
                    trust: bool | None = None, **kwargs: Any) -> Any:
    """``torch.load`` of a local file that never runs code from it unless trusted.

    Args:
        path: the file.
        map_location: ``torch.load``'s.
        trust: load in full (``weights_only=False``); ``None`` follows
            :func:`trusted_checkpoints` and ``DETBOX_TRUST_CHECKPOINTS``.
        **kwargs: more ``torch.load`` arguments (``mmap``).

    Raises:
        UnsafeCheckpointError: the file holds objects outside the allow-list (named in the
            message, with the opt-in); nothing of it was executed.
        CheckpointError: the file cannot be read (truncated, not a torch file).
    """
    path = os.fspath(path)
    if trusting_checkpoints(trust):
        _LOGGER.debug("loading %s in full (trusted)", path)
        try:
            return torch.load(path, map_location=map_location, weights_only=False, **kwargs)
        except Exception as err:
            raise CheckpointError(f"could not read checkpoint {path}: {err}") from err
    context: Any = contextlib.nullcontext()
    if hasattr(torch.serialization, "safe_globals"):
        context = torch.serialization.safe_globals(allowed_globals())
    try:
        with context:
            return torch.load(path, map_location=map_location, weights_only=True, **kwargs)
    except Exception as err:
        if isinstance(err, pickle.UnpicklingError):
            names = _offending(path, err)
            if names:
                raise UnsafeCheckpointError(
                    f"refused to load checkpoint {path}: it holds {', '.join(names)}, which is "
                    f"not one of the plain types checkpoints hold (tensors, numbers, strings, "
                    f"lists, dicts, numpy scalars and arrays). Unpickling it could run code "
                    f"from the file, so it was not loaded and nothing of it was executed. "
                    f"{TRUST_HINT}") from None
            raise CheckpointError(f"could not read checkpoint {path}: not a torch checkpoint "
                                  f"file ({_weights_only_reason(err)})") from None
        raise CheckpointError(f"could not read checkpoint {path}: {err}") from err
