"""Normalization layers built from configs, named as mmcv 1.x names them (``bn1``, ``gn``).

The name decides state_dict keys (``layer1.0.bn1.weight``), so :func:`build_norm_layer`
returns it with the layer.

>>> name, layer = build_norm_layer(dict(type='GN', num_groups=2), 4, postfix=1)
>>> name, type(layer).__name__, layer.num_groups
('gn1', 'GroupNorm', 2)
>>> name, layer = build_norm_layer(dict(type='BN', requires_grad=False), 4)
>>> name, layer.weight.requires_grad
('bn', False)
"""

from __future__ import annotations

import inspect
import logging

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.instancenorm import _InstanceNorm

from detbox.registry import LAYERS

from ._lookup import layer_class

__all__ = ["build_norm_layer", "infer_abbr", "is_norm", "NORM_TYPES"]

logger = logging.getLogger(__name__)

NORM_TYPES: dict[str, type] = {
    "BN": nn.BatchNorm2d,
    "BN1d": nn.BatchNorm1d,
    "BN2d": nn.BatchNorm2d,
    "BN3d": nn.BatchNorm3d,
    "SyncBN": nn.SyncBatchNorm,
    "GN": nn.GroupNorm,
    "LN": nn.LayerNorm,
    "IN": nn.InstanceNorm2d,
    "IN1d": nn.InstanceNorm1d,
    "IN2d": nn.InstanceNorm2d,
    "IN3d": nn.InstanceNorm3d,
}
for _name, _cls in NORM_TYPES.items():
    LAYERS.register_module(name=_name, module=_cls)


def infer_abbr(class_type: type) -> str:
    """The attribute-name stem of a norm class: ``_abbr_`` if set, else bn, gn, ln or in.

    Classes outside the torch norm families are judged by their name ("batch" -> ``bn``,
    "group" -> ``gn``, "layer" -> ``ln``, "instance" -> ``in``), else ``norm_layer``.
    """
    if not inspect.isclass(class_type):
        raise TypeError(f"class_type must be a type, but got {type(class_type)}")
    if hasattr(class_type, "_abbr_"):
        return class_type._abbr_
    if issubclass(class_type, _InstanceNorm):  # checked first: it derives from _NormBase too
        return "in"
    if issubclass(class_type, _BatchNorm):
        return "bn"
    if issubclass(class_type, nn.GroupNorm):
        return "gn"
    if issubclass(class_type, nn.LayerNorm):
        return "ln"
    name = class_type.__name__.lower()
    for word, abbr in (("batch", "bn"), ("group", "gn"), ("layer", "ln"), ("instance", "in")):
        if word in name:
            return abbr
    return "norm_layer"


def _sync_bn_usable() -> bool:
    """SyncBatchNorm only synchronises GPU tensors across processes of a running group."""
    return (torch.cuda.is_available() and dist.is_available() and dist.is_initialized()
            and dist.get_world_size() > 1)


def build_norm_layer(cfg: dict, num_features: int,
                     postfix: int | str = "") -> tuple[str, nn.Module]:
    """A normalization layer and its attribute name.

    Args:
        cfg: ``dict(type='BN' | 'SyncBN' | 'GN' | 'LN' | 'IN' | ..., requires_grad=True, ...)``;
            ``GN`` needs ``num_groups``; ``eps`` defaults to 1e-5; ``requires_grad=False``
            freezes the affine parameters. ``SyncBN`` becomes ``nn.BatchNorm2d`` (same
            parameter names) unless a multi-process group is running on GPUs.
        num_features: channels of the input (``num_channels`` for ``GN``).
        postfix: appended to the name (``1`` gives ``bn1``).

    Returns:
        ``(name, layer)``, name being the abbreviation plus ``postfix``.
    """
    cls, args = layer_class(cfg, "norm", NORM_TYPES)
    if not isinstance(postfix, (int, str)):
        raise TypeError(f"postfix must be an int or a str, got {postfix!r}")
    name = infer_abbr(cls) + str(postfix)
    requires_grad = args.pop("requires_grad", True)
    args.setdefault("eps", 1e-5)
    if cls is nn.SyncBatchNorm and not _sync_bn_usable():
        logger.debug("SyncBN without a multi-GPU process group: using BatchNorm2d")
        cls = nn.BatchNorm2d
    if cls is nn.GroupNorm:
        if "num_groups" not in args:
            raise KeyError(f"a GN norm_cfg needs 'num_groups', got {cfg}")
        layer = cls(num_channels=num_features, **args)
    else:
        layer = cls(num_features, **args)
    for param in layer.parameters():
        param.requires_grad = requires_grad
    return name, layer


def is_norm(layer: nn.Module, exclude: type | tuple[type, ...] | None = None) -> bool:
    """Whether ``layer`` is a batch, instance, group or layer norm (and not of ``exclude``)."""
    if exclude is not None:
        if not isinstance(exclude, tuple):
            exclude = (exclude,)
        if not all(isinstance(e, type) for e in exclude):
            raise TypeError(f"exclude must be a type or a tuple of types, got {exclude!r}")
        if isinstance(layer, exclude):
            return False
    return isinstance(layer, (_BatchNorm, _InstanceNorm, nn.GroupNorm, nn.LayerNorm))


def batch_norms_to_eval(module: nn.Module) -> None:
    """Put every batch norm under ``module`` in eval mode (``norm_eval``: frozen statistics)."""
    for m in module.modules():
        if isinstance(m, _BatchNorm):
            m.eval()
