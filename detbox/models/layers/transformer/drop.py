"""Dropout layers of the transformer bricks, with mmcv 1.x's names: ``DropPath``, ``Dropout``.

Both are registered in ``detbox.registry.LAYERS`` (mmcv keeps them in ``DROPOUT_LAYERS``) and
built by :func:`build_dropout` from ``dict(type='DropPath', drop_prob=0.1)``.

>>> import torch
>>> layer = build_dropout(dict(type='DropPath', drop_prob=0.5)).eval()
>>> bool((layer(torch.ones(4, 3)) == 1).all())
True
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from detbox.registry import LAYERS

from .._lookup import layer_class

__all__ = ["drop_path", "DropPath", "Dropout", "build_dropout", "DROPOUT_TYPES"]


def drop_path(x: Tensor, drop_prob: float = 0.0, training: bool = False) -> Tensor:
    """Stochastic depth: zero whole samples with probability ``drop_prob``, scale the rest.

    Args:
        x: ``Tensor[N, ...]``; one draw per sample (first dimension).
        drop_prob: probability of dropping a sample's path.
        training: drop only in training; identity otherwise.
    """
    if drop_prob == 0.0 or not training:
        return x
    keep_prob = 1 - drop_prob
    shape = (x.shape[0],) + (1,) * (x.ndim - 1)
    keep = (keep_prob + torch.rand(shape, dtype=x.dtype, device=x.device)).floor()
    return x.div(keep_prob) * keep


class DropPath(nn.Module):
    """:func:`drop_path` as a module (the residual branch of a block).

    Args:
        drop_prob: probability of dropping a sample's path.
    """

    def __init__(self, drop_prob: float = 0.1) -> None:
        super().__init__()
        self.drop_prob = drop_prob

    def forward(self, x: Tensor) -> Tensor:
        return drop_path(x, self.drop_prob, self.training)

    def extra_repr(self) -> str:
        return f"drop_prob={self.drop_prob}"


class Dropout(nn.Dropout):
    """``nn.Dropout`` whose probability is called ``drop_prob`` (like :class:`DropPath`).

    Args:
        drop_prob: probability of zeroing an element.
        inplace: zero in place.
    """

    def __init__(self, drop_prob: float = 0.5, inplace: bool = False) -> None:
        super().__init__(p=drop_prob, inplace=inplace)


DROPOUT_TYPES: dict[str, type] = {"DropPath": DropPath, "Dropout": Dropout}
for _name, _cls in DROPOUT_TYPES.items():
    LAYERS.register_module(name=_name, module=_cls)


def build_dropout(cfg: dict, default_args: dict | None = None) -> Any:
    """A dropout layer from ``dict(type='DropPath' | 'Dropout', drop_prob=...)``.

    Args:
        cfg: the layer config.
        default_args: arguments used where ``cfg`` does not set them.
    """
    cls, args = layer_class(cfg, "dropout", DROPOUT_TYPES)
    for key, value in (default_args or {}).items():
        args.setdefault(key, value)
    return cls(**args)
