"""``FFN``: the feed-forward block of transformer layers, as mmcv 1.x builds it.

``num_fcs - 1`` hidden blocks ``Sequential(Linear, activation, Dropout)`` then the output
``Linear`` and a ``Dropout``, all in ``layers``; the result goes through ``dropout_layer``
(e.g. ``DropPath``) and is added to the identity. State_dict keys for ``num_fcs=2``:
``layers.0.0.{weight,bias}`` (in -> hidden) and ``layers.1.{weight,bias}`` (hidden -> out).
Registered as ``FFN`` in ``detbox.registry.LAYERS`` (mmcv: ``FEEDFORWARD_NETWORK``).

>>> import torch
>>> ffn = FFN(embed_dims=4, feedforward_channels=8)
>>> sorted(k for k in ffn.state_dict())
['layers.0.0.bias', 'layers.0.0.weight', 'layers.1.bias', 'layers.1.weight']
>>> x = torch.zeros(2, 3, 4)
>>> torch.equal(ffn(x), x + ffn.layers(x))
True
"""

from __future__ import annotations

import warnings
from typing import Any

from torch import Tensor, nn

from detbox.registry import LAYERS

from ...base_module import BaseModule, Sequential
from ..activation import build_activation_layer
from .drop import build_dropout

__all__ = ["FFN", "build_feedforward_network"]

# mmcv 1.x's deprecated argument names and their replacements.
_RENAMED = {"dropout": "ffn_drop", "add_residual": "add_identity"}


@LAYERS.register_module()
class FFN(BaseModule):
    """Feed-forward network with an identity connection.

    Args:
        embed_dims: input and output channels.
        feedforward_channels: hidden channels.
        num_fcs: number of linear layers (at least 2).
        act_cfg: activation after each hidden linear layer (one module, shared by them).
        ffn_drop: dropout probability after every linear layer.
        dropout_layer: a ``build_dropout`` config applied to the output before the identity
            is added (``None``: identity).
        add_identity: add the identity (``x``, or ``identity`` given to ``forward``).
        init_cfg: initialisation config.
        **deprecated: mmcv's old names ``dropout`` (``ffn_drop``) and ``add_residual``
            (``add_identity``), accepted with a warning.
    """

    def __init__(self, embed_dims: int = 256, feedforward_channels: int = 1024,
                 num_fcs: int = 2,
                 act_cfg: dict = dict(type="ReLU", inplace=True),  # noqa: B006 (never mutated)
                 ffn_drop: float = 0.0, dropout_layer: dict | None = None,
                 add_identity: bool = True, init_cfg: dict | list | None = None,
                 **deprecated: Any) -> None:
        super().__init__(init_cfg)
        for old, value in deprecated.items():
            if old not in _RENAMED:
                raise TypeError(f"FFN got an unexpected argument '{old}'")
            warnings.warn(f"FFN: '{old}' is deprecated, use '{_RENAMED[old]}' instead",
                          DeprecationWarning, stacklevel=2)
            if _RENAMED[old] == "ffn_drop":
                ffn_drop = value
            else:
                add_identity = value
        if num_fcs < 2:
            raise ValueError(f"num_fcs should be no less than 2. got {num_fcs}.")
        self.embed_dims = embed_dims
        self.feedforward_channels = feedforward_channels
        self.num_fcs = num_fcs
        self.act_cfg = act_cfg
        self.activate = build_activation_layer(act_cfg)
        layers: list[nn.Module] = []
        in_channels = embed_dims
        for _ in range(num_fcs - 1):
            layers.append(Sequential(nn.Linear(in_channels, feedforward_channels), self.activate,
                                     nn.Dropout(ffn_drop)))
            in_channels = feedforward_channels
        layers.append(nn.Linear(feedforward_channels, embed_dims))
        layers.append(nn.Dropout(ffn_drop))
        self.layers = Sequential(*layers)
        self.dropout_layer = build_dropout(dropout_layer) if dropout_layer else nn.Identity()
        self.add_identity = add_identity

    def forward(self, x: Tensor, identity: Tensor | None = None, **deprecated: Any) -> Tensor:
        """``Tensor[..., embed_dims]`` -> same shape; ``identity`` defaults to ``x``.

        mmcv's old keyword ``residual`` is accepted for ``identity`` with a warning.
        """
        if deprecated:
            if set(deprecated) != {"residual"}:
                raise TypeError(f"FFN.forward got unexpected argument(s) {sorted(deprecated)}")
            warnings.warn("FFN.forward: 'residual' is deprecated, use 'identity' instead",
                          DeprecationWarning, stacklevel=2)
            identity = deprecated["residual"]
        out = self.layers(x)
        if not self.add_identity:
            return self.dropout_layer(out)
        if identity is None:
            identity = x
        return identity + self.dropout_layer(out)


def build_feedforward_network(cfg: dict, default_args: dict | None = None) -> nn.Module:
    """A feed-forward network from ``dict(type='FFN', ...)`` (``LAYERS`` registry)."""
    return LAYERS.build(cfg, default_args)
