"""DETR's encoder, decoder layer and decoder (MMDetection 2.x names and arguments)."""

from __future__ import annotations

import torch
from torch import Tensor

from detbox.registry import LAYERS

from ..norm import build_norm_layer
from .base_transformer_layer import BaseTransformerLayer
from .transformer_layer_sequence import TransformerLayerSequence

__all__ = ["DetrTransformerDecoderLayer", "DetrTransformerEncoder", "DetrTransformerDecoder"]

_LN = {"type": "LN"}  # default post_norm_cfg (read only)


@LAYERS.register_module()
class DetrTransformerDecoderLayer(BaseTransformerLayer):
    """A decoder layer: self-attention, cross-attention and FFN, each with a norm.

    Args:
        attn_cfgs: the two attentions' configs (or one for both).
        feedforward_channels: hidden channels of the FFN.
        ffn_dropout: dropout of the FFN.
        operation_order: six operations, using each of ``self_attn``, ``cross_attn``,
            ``ffn`` and ``norm``.
        act_cfg: accepted for MMDetection compatibility; unused (the FFN keeps its own
            ``act_cfg``, as in MMDetection).
        norm_cfg: norm config.
        ffn_num_fcs: fully connected layers of the FFN.
        **kwargs: :class:`BaseTransformerLayer` arguments (``ffn_cfgs``, ``batch_first``...).
    """

    def __init__(self, attn_cfgs: dict | list[dict], feedforward_channels: int,
                 ffn_dropout: float = 0.0, operation_order: tuple[str, ...] | None = None,
                 act_cfg: dict | None = None, norm_cfg: dict | None = None,
                 ffn_num_fcs: int = 2, **kwargs) -> None:
        super().__init__(attn_cfgs=attn_cfgs, feedforward_channels=feedforward_channels,
                         ffn_dropout=ffn_dropout, operation_order=operation_order,
                         act_cfg=act_cfg, norm_cfg=norm_cfg, ffn_num_fcs=ffn_num_fcs,
                         **kwargs)
        if len(operation_order) != 6 or set(operation_order) != {
                "self_attn", "norm", "cross_attn", "ffn"}:
            raise ValueError(f"DetrTransformerDecoderLayer needs six operations using "
                             f"self_attn, norm, cross_attn and ffn, got {operation_order}")


@LAYERS.register_module()
class DetrTransformerEncoder(TransformerLayerSequence):
    """DETR's encoder; pre-norm encoders end with ``post_norm``.

    Args:
        post_norm_cfg: config of the final norm (built only when the layers are pre-norm;
            ``None`` is allowed for post-norm layers only).
        **kwargs: :class:`TransformerLayerSequence` arguments.
    """

    def __init__(self, *args, post_norm_cfg: dict | None = _LN, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if post_norm_cfg is not None:
            self.post_norm = (build_norm_layer(post_norm_cfg, self.embed_dims)[1]
                              if self.pre_norm else None)
        else:
            if self.pre_norm:
                raise ValueError(f"Use prenorm in {type(self).__name__}, Please specify "
                                 f"post_norm_cfg")
            self.post_norm = None

    def forward(self, *args, **kwargs) -> Tensor:
        """:meth:`TransformerLayerSequence.forward`, then ``post_norm`` if any."""
        x = super().forward(*args, **kwargs)
        if self.post_norm is not None:
            x = self.post_norm(x)
        return x


@LAYERS.register_module()
class DetrTransformerDecoder(TransformerLayerSequence):
    """DETR's decoder, with a final norm and optionally every layer's (normed) output.

    Args:
        post_norm_cfg: config of the final norm, or ``None``.
        return_intermediate: return ``Tensor[num_layers, num_query, bs, c]`` (one entry per
            layer) instead of ``Tensor[1, num_query, bs, c]``.
        **kwargs: :class:`TransformerLayerSequence` arguments.
    """

    def __init__(self, *args, post_norm_cfg: dict | None = _LN,
                 return_intermediate: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.return_intermediate = return_intermediate
        self.post_norm = (build_norm_layer(post_norm_cfg, self.embed_dims)[1]
                          if post_norm_cfg is not None else None)

    def forward(self, query: Tensor, *args, **kwargs) -> Tensor:
        """Decode ``query: Tensor[num_query, bs, c]``; see the class docstring for the shape."""
        if not self.return_intermediate:
            x = super().forward(query, *args, **kwargs)
            if self.post_norm:
                x = self.post_norm(x)[None]
            return x
        intermediate = []
        for layer in self.layers:
            query = layer(query, *args, **kwargs)
            intermediate.append(self.post_norm(query) if self.post_norm is not None else query)
        return torch.stack(intermediate)
