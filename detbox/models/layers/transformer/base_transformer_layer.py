"""``BaseTransformerLayer``: attentions, FFNs and norms run in a configured order (mmcv 1.7).

``operation_order`` lists ``'self_attn'``, ``'cross_attn'``, ``'norm'`` and ``'ffn'``; a
leading ``'norm'`` makes the layer pre-norm (the identity of each residual is then the
input of the preceding norm). Modules are kept in ``attentions``, ``ffns`` and ``norms``
in order of appearance, which fixes the state_dict keys (``attentions.0.attn.in_proj_weight``,
``ffns.0.layers.0.0.weight``, ``norms.1.weight``).
"""

from __future__ import annotations

import copy
import warnings
from typing import Sequence

import torch
from torch import Tensor

from detbox.registry import LAYERS

from ...base_module import BaseModule, ModuleList
from ..norm import build_norm_layer
from .builder import build_attention, build_feedforward_network

__all__ = ["BaseTransformerLayer"]

_OPERATIONS = {"self_attn", "norm", "ffn", "cross_attn"}
# deprecated layer argument -> FFN argument (mmcv 1.x still accepts them)
_DEPRECATED_FFN_ARGS = {"feedforward_channels": "feedforward_channels",
                        "ffn_dropout": "ffn_drop", "ffn_num_fcs": "num_fcs"}


def _default_ffn_cfgs() -> dict:
    return dict(type="FFN", embed_dims=256, feedforward_channels=1024, num_fcs=2, ffn_drop=0.0,
                act_cfg=dict(type="ReLU", inplace=True))


@LAYERS.register_module()
class BaseTransformerLayer(BaseModule):
    """A transformer layer built from config dicts.

    Args:
        attn_cfgs: one attention config per ``'self_attn'``/``'cross_attn'`` in
            ``operation_order`` (in order), or one dict used for all of them.
        ffn_cfgs: one FFN config per ``'ffn'``, or one dict for all; ``embed_dims`` defaults to
            the attentions'. Default: an ``FFN`` with ``embed_dims=256``,
            ``feedforward_channels=1024``, 2 fcs, no dropout, ReLU.
        operation_order: e.g. ``('self_attn', 'norm', 'ffn', 'norm')``.
        norm_cfg: config of every norm (``LN``).
        init_cfg: initialisation config.
        batch_first: tensors are ``[bs, n, c]`` instead of ``[n, bs, c]``; passed to the
            attentions that do not set it.
        feedforward_channels: deprecated; ``ffn_cfgs.feedforward_channels``.
        ffn_dropout: deprecated; ``ffn_cfgs.ffn_drop``.
        ffn_num_fcs: deprecated; ``ffn_cfgs.num_fcs``.
        **kwargs: MMDetection's layers forward ``act_cfg``, which is ignored as in mmcv;
            any other unknown argument is an error (mmcv would ignore a typo silently).
    """

    def __init__(self, attn_cfgs: dict | Sequence[dict] | None = None,
                 ffn_cfgs: dict | Sequence[dict] | None = None,
                 operation_order: Sequence[str] | None = None,
                 norm_cfg: dict | None = None, init_cfg: dict | list | None = None,
                 batch_first: bool = False, feedforward_channels: int | None = None,
                 ffn_dropout: float | None = None, ffn_num_fcs: int | None = None,
                 **kwargs) -> None:
        super().__init__(init_cfg)
        unknown = sorted(set(kwargs) - {"act_cfg"})
        if unknown:
            raise TypeError(f"{type(self).__name__} got unexpected argument(s) {unknown}")
        ffn_cfgs = _default_ffn_cfgs() if ffn_cfgs is None else copy.deepcopy(ffn_cfgs)
        norm_cfg = dict(type="LN") if norm_cfg is None else norm_cfg
        given = dict(feedforward_channels=feedforward_channels, ffn_dropout=ffn_dropout,
                     ffn_num_fcs=ffn_num_fcs)
        for old, new in _DEPRECATED_FFN_ARGS.items():
            if given[old] is not None:
                warnings.warn(f"The arguments `{old}` in BaseTransformerLayer has been "
                              f"deprecated, now you should set `{new}` and other FFN related "
                              f"arguments to a dict named `ffn_cfgs`.", DeprecationWarning,
                              stacklevel=2)
                targets = [ffn_cfgs] if isinstance(ffn_cfgs, dict) else ffn_cfgs
                for cfg in targets:
                    cfg[new] = given[old]
        if operation_order is None or not set(operation_order) <= _OPERATIONS:
            raise ValueError(f"The operation_order of {type(self).__name__} should contain only "
                             f"{sorted(_OPERATIONS)}, got {operation_order}")
        num_attn = operation_order.count("self_attn") + operation_order.count("cross_attn")
        if isinstance(attn_cfgs, dict):
            attn_cfgs = [copy.deepcopy(attn_cfgs) for _ in range(num_attn)]
        else:
            attn_cfgs = [copy.deepcopy(c) for c in (attn_cfgs or [])]
            if len(attn_cfgs) != num_attn:
                raise ValueError(f"The length of attn_cfg {num_attn} is not consistent with the "
                                 f"number of attention in operation_order {operation_order}.")
        self.batch_first = batch_first
        self.num_attn = num_attn
        self.operation_order = operation_order
        self.norm_cfg = norm_cfg
        self.pre_norm = operation_order[0] == "norm"
        self.attentions = ModuleList()
        index = 0
        for name in operation_order:
            if name not in ("self_attn", "cross_attn"):
                continue
            cfg = attn_cfgs[index]
            if "batch_first" in cfg:
                if cfg["batch_first"] != batch_first:
                    raise ValueError(f"attn_cfgs[{index}].batch_first={cfg['batch_first']} "
                                     f"differs from the layer's batch_first={batch_first}")
            else:
                cfg["batch_first"] = batch_first
            attention = build_attention(cfg)
            attention.operation_name = name  # some attentions act differently as self/cross
            self.attentions.append(attention)
            index += 1
        self.embed_dims = self.attentions[0].embed_dims

        num_ffns = operation_order.count("ffn")
        if isinstance(ffn_cfgs, dict):
            ffn_cfgs = [copy.deepcopy(ffn_cfgs) for _ in range(num_ffns)]
        if len(ffn_cfgs) != num_ffns:
            raise ValueError(f"{len(ffn_cfgs)} ffn_cfgs for {num_ffns} 'ffn' in operation_order")
        self.ffns = ModuleList()
        for i, cfg in enumerate(ffn_cfgs):
            cfg = dict(cfg)
            if "embed_dims" not in cfg:
                cfg["embed_dims"] = self.embed_dims
            elif cfg["embed_dims"] != self.embed_dims:
                raise ValueError(f"ffn_cfgs[{i}].embed_dims={cfg['embed_dims']} differs from the "
                                 f"attentions' embed_dims={self.embed_dims}")
            self.ffns.append(build_feedforward_network(cfg, dict(type="FFN")))

        self.norms = ModuleList()
        for _ in range(operation_order.count("norm")):
            self.norms.append(build_norm_layer(norm_cfg, self.embed_dims)[1])

    def forward(self, query: Tensor, key: Tensor | None = None, value: Tensor | None = None,
                query_pos: Tensor | None = None, key_pos: Tensor | None = None,
                attn_masks: Tensor | list[Tensor | None] | None = None,
                query_key_padding_mask: Tensor | None = None,
                key_padding_mask: Tensor | None = None, **kwargs) -> Tensor:
        """Run ``operation_order`` on ``query``.

        Args:
            query: ``Tensor[num_queries, bs, embed_dims]`` (``[bs, n, c]`` if ``batch_first``).
            key: keys of cross-attention, ``Tensor[num_keys, bs, embed_dims]``.
            value: values of cross-attention, same shape as ``key``.
            query_pos: positional encoding added to queries (and to self-attention keys).
            key_pos: positional encoding added to cross-attention keys.
            attn_masks: one mask per attention, or one tensor for all of them.
            query_key_padding_mask: ``Tensor[bs, num_queries]``, for self-attention.
            key_padding_mask: ``Tensor[bs, num_keys]``, for cross-attention.
            **kwargs: passed to every attention (``reference_points``, ``spatial_shapes``...).

        Returns:
            ``Tensor`` shaped like ``query``.
        """
        norm_index = attn_index = ffn_index = 0
        identity = query
        if attn_masks is None:
            attn_masks = [None] * self.num_attn
        elif isinstance(attn_masks, torch.Tensor):
            warnings.warn(f"Use same attn_mask in all attentions in {type(self).__name__} ",
                          stacklevel=2)
            attn_masks = [attn_masks.clone() for _ in range(self.num_attn)]
        elif len(attn_masks) != self.num_attn:
            raise ValueError(f"The length of attn_masks {len(attn_masks)} must be equal to the "
                             f"number of attention in operation_order {self.num_attn}")
        for name in self.operation_order:
            if name == "self_attn":
                query = self.attentions[attn_index](
                    query, query, query, identity if self.pre_norm else None,
                    query_pos=query_pos, key_pos=query_pos, attn_mask=attn_masks[attn_index],
                    key_padding_mask=query_key_padding_mask, **kwargs)
                attn_index += 1
                identity = query
            elif name == "norm":
                query = self.norms[norm_index](query)
                norm_index += 1
            elif name == "cross_attn":
                query = self.attentions[attn_index](
                    query, key, value, identity if self.pre_norm else None,
                    query_pos=query_pos, key_pos=key_pos, attn_mask=attn_masks[attn_index],
                    key_padding_mask=key_padding_mask, **kwargs)
                attn_index += 1
                identity = query
            else:
                query = self.ffns[ffn_index](query, identity if self.pre_norm else None)
                ffn_index += 1
        return query
