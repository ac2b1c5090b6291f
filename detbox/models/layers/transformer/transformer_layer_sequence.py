"""``TransformerLayerSequence``: ``num_layers`` transformer layers applied in turn (mmcv 1.7)."""

from __future__ import annotations

import copy

from torch import Tensor

from detbox.registry import LAYERS

from ...base_module import BaseModule, ModuleList
from .builder import build_transformer_layer

__all__ = ["TransformerLayerSequence"]


@LAYERS.register_module()
class TransformerLayerSequence(BaseModule):
    """Base class of transformer encoders and decoders.

    Args:
        transformerlayers: one layer config repeated ``num_layers`` times, or a list of
            ``num_layers`` configs (state_dict keys ``layers.{i}.*``).
        num_layers: number of layers.
        init_cfg: initialisation config.
    """

    def __init__(self, transformerlayers: dict | list[dict] | None = None,
                 num_layers: int | None = None, init_cfg: dict | list | None = None) -> None:
        super().__init__(init_cfg)
        if isinstance(transformerlayers, dict):
            if num_layers is None:
                raise ValueError("num_layers is required when transformerlayers is one dict")
            transformerlayers = [copy.deepcopy(transformerlayers) for _ in range(num_layers)]
        elif not isinstance(transformerlayers, list) or len(transformerlayers) != num_layers:
            raise ValueError(f"transformerlayers must be a dict or a list of num_layers="
                             f"{num_layers} dicts, got {transformerlayers!r}")
        self.num_layers = num_layers
        self.layers = ModuleList()
        for cfg in transformerlayers:
            self.layers.append(build_transformer_layer(cfg))
        self.embed_dims = self.layers[0].embed_dims
        self.pre_norm = self.layers[0].pre_norm

    def forward(self, query: Tensor, key: Tensor | None, value: Tensor | None,
                query_pos: Tensor | None = None, key_pos: Tensor | None = None,
                attn_masks: list | None = None, query_key_padding_mask: Tensor | None = None,
                key_padding_mask: Tensor | None = None, **kwargs) -> Tensor:
        """Each layer's output is the next one's query; arguments as
        :meth:`BaseTransformerLayer.forward`."""
        for layer in self.layers:
            query = layer(query, key, value, query_pos=query_pos, key_pos=key_pos,
                          attn_masks=attn_masks, query_key_padding_mask=query_key_padding_mask,
                          key_padding_mask=key_padding_mask, **kwargs)
        return query
