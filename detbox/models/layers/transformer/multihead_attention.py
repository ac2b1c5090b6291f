"""``MultiheadAttention``: mmcv 1.7's wrapper of ``nn.MultiheadAttention`` with a residual.

``out = identity + dropout_layer(proj_drop(attn(query + query_pos, key + key_pos, value)))``.
The state_dict is ``nn.MultiheadAttention``'s under ``attn``: ``attn.in_proj_weight``
``(3C, C)``, ``attn.in_proj_bias``, ``attn.out_proj.weight``, ``attn.out_proj.bias``.
Registered in ``detbox.registry.LAYERS`` as ``MultiheadAttention`` (mmcv's ``ATTENTION``).

>>> import torch
>>> attn = MultiheadAttention(8, 2, batch_first=True).eval()
>>> q = torch.randn(2, 5, 8)
>>> out = attn(q, query_pos=torch.zeros_like(q))
>>> tuple(out.shape), sorted(k for k in attn.state_dict())
((2, 5, 8), ['attn.in_proj_bias', 'attn.in_proj_weight', 'attn.out_proj.bias', \
'attn.out_proj.weight'])
"""

from __future__ import annotations

import inspect
import warnings
from typing import Any

from torch import Tensor, nn

from detbox.registry import LAYERS

from ...base_module import BaseModule
from .drop import build_dropout

__all__ = ["MultiheadAttention"]

# Keyword arguments passed on to ``nn.MultiheadAttention`` (``bias``, ``kdim``, ...).
_TORCH_MHA_ARGS = frozenset(inspect.signature(nn.MultiheadAttention).parameters) - {
    "embed_dim", "num_heads", "dropout", "batch_first"}
# mmcv's default residual-branch layer (read only; an explicit None means nn.Identity).
_DEFAULT_DROPOUT_LAYER = {"type": "Dropout", "drop_prob": 0.0}


@LAYERS.register_module()
class MultiheadAttention(BaseModule):
    """Multi-head attention with an identity connection and positional encodings.

    Args:
        embed_dims: channels ``C`` of query, key and value.
        num_heads: attention heads.
        attn_drop: dropout on the attention weights.
        proj_drop: dropout on the attention output.
        dropout_layer: the layer on the residual branch (``dict(type='Dropout' | 'DropPath',
            drop_prob=...)``; ``Dropout`` with 0 by default); ``None`` for none.
        init_cfg: ``BaseModule`` init_cfg (``nn.MultiheadAttention`` initialises itself).
        batch_first: tensors are ``(batch, n, C)`` instead of ``(n, batch, C)``.
        **kwargs: ``bias``, ``add_bias_kv``, ``add_zero_attn``, ``kdim``, ``vdim`` of
            ``nn.MultiheadAttention``; the deprecated ``dropout`` sets ``attn_drop`` and the
            ``drop_prob`` of ``dropout_layer`` (as mmcv does).
    """

    _accepts_any_kwargs = True  # checked against nn.MultiheadAttention's arguments below

    def __init__(self, embed_dims: int, num_heads: int, attn_drop: float = 0.0,
                 proj_drop: float = 0.0,
                 dropout_layer: dict | None = _DEFAULT_DROPOUT_LAYER,
                 init_cfg: dict | list | None = None, batch_first: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(init_cfg)
        if "dropout" in kwargs:
            warnings.warn("The argument `dropout` of MultiheadAttention is deprecated; set "
                          "`attn_drop`, `proj_drop` and `dropout_layer` instead",
                          DeprecationWarning, stacklevel=2)
            attn_drop = kwargs.pop("dropout")
            if dropout_layer:
                dropout_layer = {**dropout_layer, "drop_prob": attn_drop}
        unknown = sorted(set(kwargs) - _TORCH_MHA_ARGS)
        if unknown:
            raise TypeError(f"MultiheadAttention got unexpected argument(s) {unknown}; besides "
                            f"its own it takes nn.MultiheadAttention's {sorted(_TORCH_MHA_ARGS)}")
        self.embed_dims = embed_dims
        self.num_heads = num_heads
        self.batch_first = batch_first
        self.attn = nn.MultiheadAttention(embed_dims, num_heads, attn_drop, **kwargs)
        self.proj_drop = nn.Dropout(proj_drop)
        self.dropout_layer = build_dropout(dropout_layer) if dropout_layer else nn.Identity()

    def forward(self, query: Tensor, key: Tensor | None = None, value: Tensor | None = None,
                identity: Tensor | None = None, query_pos: Tensor | None = None,
                key_pos: Tensor | None = None, attn_mask: Tensor | None = None,
                key_padding_mask: Tensor | None = None, **kwargs: Any) -> Tensor:
        """Attend ``query`` to ``key`` / ``value`` and add the result to ``identity``.

        Args:
            query: ``[num_queries, bs, C]`` (``[bs, num_queries, C]`` with ``batch_first``).
            key: ``[num_keys, bs, C]``; ``query`` when None.
            value: same shape as ``key``; ``key`` when None.
            identity: added to the output; ``query`` (before ``query_pos``) when None.
            query_pos: added to ``query``.
            key_pos: added to ``key``; when None, ``query_pos`` is used if it has ``key``'s
                shape (else a warning).
            attn_mask: ``[num_queries, num_keys]`` (or ``[bs * num_heads, ...]``) mask.
            key_padding_mask: ``[bs, num_keys]``, True at padded keys.
            **kwargs: ignored (other layers' inputs in a transformer layer); the deprecated
                ``residual`` is ``identity``.

        Returns:
            ``Tensor`` of ``query``'s shape.
        """
        if "residual" in kwargs:
            warnings.warn("MultiheadAttention: `residual` is deprecated, use `identity`",
                          DeprecationWarning, stacklevel=2)
            identity = kwargs.pop("residual") if identity is None else identity
        if key is None:
            key = query
        if value is None:
            value = key
        if identity is None:
            identity = query
        if key_pos is None and query_pos is not None:
            if query_pos.shape == key.shape:
                key_pos = query_pos
            else:
                warnings.warn(f"position encoding of key is missing in "
                              f"{type(self).__name__}.", stacklevel=2)
        if query_pos is not None:
            query = query + query_pos
        if key_pos is not None:
            key = key + key_pos
        if self.batch_first:  # nn.MultiheadAttention is used sequence-first, as in mmcv
            query, key, value = query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1)
        out = self.attn(query=query, key=key, value=value, attn_mask=attn_mask,
                        key_padding_mask=key_padding_mask)[0]
        if self.batch_first:
            out = out.transpose(0, 1)
        return identity + self.dropout_layer(self.proj_drop(out))
