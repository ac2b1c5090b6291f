"""The layers of PVT / PVTv2 (MMDetection 2.28.2's names and state_dict layout).

- :class:`MixFFN`: 1x1 conv, (3x3 depthwise conv in PVTv2), activation, dropout, 1x1 conv,
  dropout, in ``layers`` (a ``Sequential``: indices ``0`` fc1, ``1`` dwconv, ``4`` fc2 with the
  depthwise conv, else ``0`` fc1 and ``3`` fc2);
- :class:`SpatialReductionAttention`: :class:`MultiheadAttention` whose keys and values come
  from the tokens reduced by an ``sr_ratio`` strided conv (``sr``) and a norm (``norm``);
- :class:`PVTEncoderLayer`: ``norm1``, ``attn``, ``norm2``, ``ffn`` (pre-norm residual blocks);
- :class:`AbsolutePositionEmbedding`: ``pos_embed`` ``(1, H * W, C)``, resized bilinearly to
  the input's token grid.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..base_module import BaseModule, Sequential
from ..layers import build_activation_layer, build_norm_layer
from ..layers.transformer import (
    MultiheadAttention,
    build_dropout,
    nchw_to_nlc,
    nlc_to_nchw,
    to_2tuple,
)

__all__ = ["MixFFN", "SpatialReductionAttention", "PVTEncoderLayer", "AbsolutePositionEmbedding"]


class MixFFN(BaseModule):
    """Feed-forward network of PVT on token maps (1x1 convs instead of linear layers).

    Args:
        embed_dims: token channels.
        feedforward_channels: hidden channels.
        act_cfg: activation.
        ffn_drop: dropout after the activation and after the second conv.
        dropout_layer: the layer on the residual branch (``dict(type='DropPath', ...)``).
        use_conv: add a 3x3 depthwise conv after the first 1x1 conv (PVTv2).
        init_cfg: initialisation config.
    """

    def __init__(self, embed_dims: int, feedforward_channels: int, act_cfg: dict | None = None,
                 ffn_drop: float = 0.0, dropout_layer: dict | None = None,
                 use_conv: bool = False, init_cfg: dict | list | None = None) -> None:
        super().__init__(init_cfg=init_cfg)
        act_cfg = dict(type="GELU") if act_cfg is None else act_cfg
        self.embed_dims = embed_dims
        self.feedforward_channels = feedforward_channels
        self.act_cfg = act_cfg
        fc1 = nn.Conv2d(embed_dims, feedforward_channels, kernel_size=1, bias=True)
        fc2 = nn.Conv2d(feedforward_channels, embed_dims, kernel_size=1, bias=True)
        drop = nn.Dropout(ffn_drop)
        layers = [fc1, build_activation_layer(act_cfg), drop, fc2, drop]
        if use_conv:  # positional information from a 3x3 depthwise conv
            layers.insert(1, nn.Conv2d(feedforward_channels, feedforward_channels, kernel_size=3,
                                       padding=1, bias=True, groups=feedforward_channels))
        self.layers = Sequential(*layers)
        self.dropout_layer = build_dropout(dropout_layer) if dropout_layer else nn.Identity()

    def forward(self, x: Tensor, hw_shape: Sequence[int], identity: Tensor | None = None
                ) -> Tensor:
        """``x``: ``[N, H * W, C]`` tokens of an ``hw_shape`` grid; ``identity`` is added."""
        out = nchw_to_nlc(self.layers(nlc_to_nchw(x, hw_shape)))
        return (x if identity is None else identity) + self.dropout_layer(out)


class SpatialReductionAttention(MultiheadAttention):
    """Attention of every token to a spatially reduced token map (PVT's SRA).

    Args:
        embed_dims: token channels.
        num_heads: attention heads.
        attn_drop: dropout on the attention weights.
        proj_drop: dropout on the attention output.
        dropout_layer: the layer on the residual branch.
        batch_first: tokens are ``[N, L, C]``.
        qkv_bias: biases of the query / key / value projections (``bias`` of
            ``nn.MultiheadAttention``).
        norm_cfg: the norm after the reduction conv.
        sr_ratio: kernel size and stride of the reduction conv; 1: no reduction.
        init_cfg: initialisation config.
    """

    def __init__(self, embed_dims: int, num_heads: int, attn_drop: float = 0.0,
                 proj_drop: float = 0.0, dropout_layer: dict | None = None,
                 batch_first: bool = True, qkv_bias: bool = True, norm_cfg: dict | None = None,
                 sr_ratio: int = 1, init_cfg: dict | list | None = None) -> None:
        super().__init__(embed_dims, num_heads, attn_drop, proj_drop, batch_first=batch_first,
                         dropout_layer=dropout_layer, bias=qkv_bias, init_cfg=init_cfg)
        norm_cfg = dict(type="LN") if norm_cfg is None else norm_cfg
        self.sr_ratio = sr_ratio
        if sr_ratio > 1:
            self.sr = nn.Conv2d(embed_dims, embed_dims, kernel_size=sr_ratio, stride=sr_ratio)
            self.norm = build_norm_layer(norm_cfg, embed_dims)[1]

    def forward(self, x: Tensor, hw_shape: Sequence[int],  # type: ignore[override]
                identity: Tensor | None = None) -> Tensor:
        """``x``: ``[N, H * W, C]`` (batch first) tokens of an ``hw_shape`` grid."""
        x_q = x
        x_kv = x
        if self.sr_ratio > 1:
            x_kv = self.norm(nchw_to_nlc(self.sr(nlc_to_nchw(x, hw_shape))))
        if identity is None:
            identity = x_q
        if self.batch_first:
            x_q, x_kv = x_q.transpose(0, 1), x_kv.transpose(0, 1)
        out = self.attn(query=x_q, key=x_kv, value=x_kv)[0]
        if self.batch_first:
            out = out.transpose(0, 1)
        return identity + self.dropout_layer(self.proj_drop(out))


class PVTEncoderLayer(BaseModule):
    """``x + SRA(norm1(x))``, then ``x + MixFFN(norm2(x))``.

    Args:
        embed_dims: token channels.
        num_heads: attention heads.
        feedforward_channels: hidden channels of the FFN.
        drop_rate: dropout after the attention and inside the FFN.
        attn_drop_rate: dropout on the attention weights.
        drop_path_rate: stochastic depth of both residual branches.
        qkv_bias: biases of the attention projections.
        act_cfg: activation of the FFN.
        norm_cfg: the norms.
        sr_ratio: spatial reduction of the attention.
        use_conv_ffn: depthwise conv in the FFN (PVTv2).
        init_cfg: initialisation config.
    """

    def __init__(self, embed_dims: int, num_heads: int, feedforward_channels: int,
                 drop_rate: float = 0.0, attn_drop_rate: float = 0.0,
                 drop_path_rate: float = 0.0, qkv_bias: bool = True,
                 act_cfg: dict | None = None, norm_cfg: dict | None = None, sr_ratio: int = 1,
                 use_conv_ffn: bool = False, init_cfg: dict | list | None = None) -> None:
        super().__init__(init_cfg=init_cfg)
        norm_cfg = dict(type="LN") if norm_cfg is None else norm_cfg
        drop_path = dict(type="DropPath", drop_prob=drop_path_rate)
        self.norm1 = build_norm_layer(norm_cfg, embed_dims)[1]
        self.attn = SpatialReductionAttention(
            embed_dims=embed_dims, num_heads=num_heads, attn_drop=attn_drop_rate,
            proj_drop=drop_rate, dropout_layer=drop_path, qkv_bias=qkv_bias, norm_cfg=norm_cfg,
            sr_ratio=sr_ratio)
        self.norm2 = build_norm_layer(norm_cfg, embed_dims)[1]
        self.ffn = MixFFN(embed_dims=embed_dims, feedforward_channels=feedforward_channels,
                          ffn_drop=drop_rate, dropout_layer=drop_path, use_conv=use_conv_ffn,
                          act_cfg=act_cfg)

    def forward(self, x: Tensor, hw_shape: Sequence[int]) -> Tensor:
        x = self.attn(self.norm1(x), hw_shape, identity=x)
        return self.ffn(self.norm2(x), hw_shape, identity=x)


class AbsolutePositionEmbedding(BaseModule):
    """A learned ``(1, H * W, C)`` position embedding added to the tokens (PVT v1).

    Args:
        pos_shape: the token grid ``(H, W)`` of the pretraining size (an int for a square).
        pos_dim: channels ``C``.
        drop_rate: dropout after the addition.
        init_cfg: initialisation config.
    """

    def __init__(self, pos_shape: int | Sequence[int], pos_dim: int, drop_rate: float = 0.0,
                 init_cfg: dict | list | None = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if isinstance(pos_shape, (int, np.integer)):
            pos_shape = to_2tuple(int(pos_shape))
        elif len(pos_shape) == 1:
            pos_shape = to_2tuple(int(pos_shape[0]))
        if len(pos_shape) != 2:
            raise ValueError(f"pos_shape must have 1 or 2 values, got {pos_shape}")
        self.pos_shape = tuple(int(s) for s in pos_shape)
        self.pos_dim = pos_dim
        self.pos_embed = nn.Parameter(torch.zeros(1, self.pos_shape[0] * self.pos_shape[1],
                                                  pos_dim))
        self.drop = nn.Dropout(p=drop_rate)

    def init_weights(self) -> None:
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        self._is_init = True

    def resize_pos_embed(self, pos_embed: Tensor, input_shape: Sequence[int],
                         mode: str = "bilinear") -> Tensor:
        """``pos_embed`` ``[1, L, C]`` (its last ``H * W`` tokens) resized to ``input_shape``
        -> ``[1, h * w, C]``."""
        if pos_embed.ndim != 3:
            raise ValueError(f"pos_embed must be [B, L, C], got shape {tuple(pos_embed.shape)}")
        pos_h, pos_w = self.pos_shape
        grid = pos_embed[:, -pos_h * pos_w:].reshape(1, pos_h, pos_w, self.pos_dim)
        grid = F.interpolate(grid.permute(0, 3, 1, 2), size=tuple(input_shape), mode=mode)
        return grid.flatten(2).transpose(1, 2).contiguous()

    def forward(self, x: Tensor, hw_shape: Sequence[int], mode: str = "bilinear") -> Tensor:
        return self.drop(x + self.resize_pos_embed(self.pos_embed, hw_shape, mode))
