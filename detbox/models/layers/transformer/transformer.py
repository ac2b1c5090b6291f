"""``Transformer``: DETR's encoder-decoder over one feature map (MMDetection 2.x)."""

from __future__ import annotations

import torch
from torch import Tensor

from detbox.registry import LAYERS

from ...base_module import BaseModule
from ...weight_init import xavier_init
from .builder import build_transformer_layer_sequence

__all__ = ["Transformer"]


@LAYERS.register_module()
class Transformer(BaseModule):
    """DETR's transformer: positional encodings enter every attention, the decoder returns
    the stack of its layers' outputs.

    Args:
        encoder: encoder config (``DetrTransformerEncoder``).
        decoder: decoder config (``DetrTransformerDecoder``).
        init_cfg: initialisation config (overridden by :meth:`init_weights`, as in
            MMDetection).
    """

    def __init__(self, encoder: dict | None = None, decoder: dict | None = None,
                 init_cfg: dict | list | None = None) -> None:
        super().__init__(init_cfg)
        self.encoder = build_transformer_layer_sequence(encoder)
        self.decoder = build_transformer_layer_sequence(decoder)
        self.embed_dims = self.encoder.embed_dims

    def init_weights(self) -> None:
        """Xavier-uniform weights of every module whose weight has two or more dims."""
        for m in self.modules():
            if hasattr(m, "weight") and m.weight.dim() > 1:
                xavier_init(m, distribution="uniform")
        self._is_init = True

    def forward(self, x: Tensor, mask: Tensor, query_embed: Tensor,
                pos_embed: Tensor) -> tuple[Tensor, Tensor]:
        """Encode ``x`` and decode the queries.

        Args:
            x: ``Tensor[bs, c, h, w]`` with ``c = embed_dims``.
            mask: ``Tensor[bs, h, w]``, True where padded.
            query_embed: ``Tensor[num_query, c]``.
            pos_embed: ``Tensor[bs, c, h, w]``.

        Returns:
            ``out_dec: Tensor[num_layers or 1, bs, num_query, c]`` and
            ``memory: Tensor[bs, c, h, w]``.
        """
        bs, c, h, w = x.shape
        x = x.view(bs, c, -1).permute(2, 0, 1)  # [h*w, bs, c]
        pos_embed = pos_embed.view(bs, c, -1).permute(2, 0, 1)
        query_embed = query_embed.unsqueeze(1).repeat(1, bs, 1)  # [num_query, bs, c]
        mask = mask.view(bs, -1)  # [bs, h*w]
        memory = self.encoder(query=x, key=None, value=None, query_pos=pos_embed,
                              query_key_padding_mask=mask)
        target = torch.zeros_like(query_embed)
        out_dec = self.decoder(query=target, key=memory, value=memory, key_pos=pos_embed,
                               query_pos=query_embed, key_padding_mask=mask)
        out_dec = out_dec.transpose(1, 2)  # [layers, bs, num_query, c]
        memory = memory.permute(1, 2, 0).reshape(bs, c, h, w)
        return out_dec, memory
