"""Pyramid Vision Transformer v1 and v2 with MMDetection 2.28.2's arguments and state_dicts.

Stage ``i`` is ``layers.{i}``, a ``ModuleList`` of three: ``0`` a :class:`PatchEmbed`
(``projection`` conv, ``norm``), ``1`` a ``ModuleList`` of (v1: an
:class:`AbsolutePositionEmbedding`, then) :class:`PVTEncoderLayer` s, ``2`` the stage's output
norm (v2) or ``nn.Identity`` (v1). Stage ``i`` has ``embed_dims * num_heads[i]`` channels and
outputs ``(N, C_i, H_i, W_i)`` maps; any input size works (v1's position embeddings are resized
bilinearly to the token grid).

Pretrained weights: ``init_cfg=dict(checkpoint='https://github.com/whai362/PVT/releases/
download/v2/pvt_v2_b0.pth')`` (the ``type`` may be left out, as in MMDetection's configs)
loads an official checkpoint (found in the torch hub cache by file name; ``state_dict`` or
``model`` entries are unwrapped) and renames it with :func:`pvt_convert` when
``convert_weights`` (the default). ``prefix`` selects a part of a detector checkpoint
(``prefix='backbone.'``). Without ``init_cfg`` the weights are initialised as MMDetection does
(truncated normal linear layers, fan-out normal convs, unit norms).

>>> import torch
>>> net = PyramidVisionTransformerV2(embed_dims=8, num_layers=[1, 1, 1, 1]).eval()
>>> [tuple(f.shape) for f in net(torch.zeros(1, 3, 50, 70))]
[(1, 8, 13, 18), (1, 16, 7, 9), (1, 40, 4, 5), (1, 64, 2, 3)]
"""

from __future__ import annotations

import logging
import math
import warnings
from typing import Any, Sequence

import numpy as np
import torch
from torch import Tensor, nn

from detbox.registry import MODELS

from ..base_module import BaseModule, ModuleList
from ..layers import build_norm_layer
from ..layers.transformer import PatchEmbed, nlc_to_nchw, to_2tuple
from .pvt_convert import pvt_convert
from .pvt_layers import AbsolutePositionEmbedding, PVTEncoderLayer

__all__ = ["PyramidVisionTransformer", "PyramidVisionTransformerV2"]

logger = logging.getLogger(__name__)


@MODELS.register_module()
class PyramidVisionTransformer(BaseModule):
    """PVT (Wang et al., 2021): a pyramid of transformer stages with spatial-reduction attention.

    Args:
        pretrain_img_size: input size of pretraining (sizes the position embeddings).
        in_channels: image channels.
        embed_dims: base channels; stage ``i`` has ``embed_dims * num_heads[i]``.
        num_stages: stages.
        num_layers: encoder layers per stage.
        num_heads: attention heads per stage.
        patch_sizes: patch embedding kernel per stage.
        strides: patch embedding stride per stage.
        paddings: patch embedding padding per stage.
        sr_ratios: spatial reduction ratio of the attention per stage.
        out_indices: stages whose maps are returned.
        mlp_ratios: FFN hidden channels over the stage's channels.
        qkv_bias: biases of the attention projections.
        drop_rate: dropout (position embedding, attention output, FFN).
        attn_drop_rate: dropout on the attention weights.
        drop_path_rate: largest stochastic depth rate (linear over all layers from 0).
        use_abs_pos_embed: learned absolute position embeddings (v1).
        norm_after_stage: a norm on each stage's tokens (v2).
        use_conv_ffn: depthwise conv in the FFN (v2).
        act_cfg: activation of the FFN.
        norm_cfg: the norms.
        pretrained: deprecated; a checkpoint path (use ``init_cfg``).
        convert_weights: rename the checkpoint from the official layout (:func:`pvt_convert`).
        init_cfg: ``dict(checkpoint=..., prefix=None)``; ``None``: random initialisation.
    """

    def __init__(self, pretrain_img_size: int | Sequence[int] = 224, in_channels: int = 3,
                 embed_dims: int = 64, num_stages: int = 4,
                 num_layers: Sequence[int] = (3, 4, 6, 3), num_heads: Sequence[int] = (1, 2, 5, 8),
                 patch_sizes: Sequence[int] = (4, 2, 2, 2), strides: Sequence[int] = (4, 2, 2, 2),
                 paddings: Sequence[int] = (0, 0, 0, 0), sr_ratios: Sequence[int] = (8, 4, 2, 1),
                 out_indices: Sequence[int] = (0, 1, 2, 3),
                 mlp_ratios: Sequence[int] = (8, 8, 4, 4), qkv_bias: bool = True,
                 drop_rate: float = 0.0, attn_drop_rate: float = 0.0,
                 drop_path_rate: float = 0.1, use_abs_pos_embed: bool = True,
                 norm_after_stage: bool = False, use_conv_ffn: bool = False,
                 act_cfg: dict | None = None, norm_cfg: dict | None = None,
                 pretrained: str | None = None, convert_weights: bool = True,
                 init_cfg: dict | None = None) -> None:
        super().__init__(init_cfg=init_cfg)
        act_cfg = dict(type="GELU") if act_cfg is None else act_cfg
        norm_cfg = dict(type="LN", eps=1e-6) if norm_cfg is None else norm_cfg
        self.convert_weights = convert_weights
        pretrain_img_size = to_2tuple(pretrain_img_size)
        if len(pretrain_img_size) == 1:
            pretrain_img_size = to_2tuple(pretrain_img_size[0])
        if len(pretrain_img_size) != 2:
            raise ValueError(f"pretrain_img_size must have 1 or 2 values, got "
                             f"{pretrain_img_size}")
        if init_cfg and pretrained:
            raise ValueError("init_cfg and pretrained cannot be set at the same time")
        if isinstance(pretrained, str):
            warnings.warn("pretrained is deprecated, use init_cfg instead", DeprecationWarning,
                          stacklevel=2)
            self.init_cfg = dict(type="Pretrained", checkpoint=pretrained)
        elif pretrained is not None:
            raise TypeError(f"pretrained must be a str or None, got {type(pretrained)}")
        lengths = {len(v) for v in (num_layers, num_heads, patch_sizes, strides, sr_ratios)}
        if lengths != {num_stages}:
            raise ValueError(f"num_layers, num_heads, patch_sizes, strides and sr_ratios must "
                             f"each have num_stages={num_stages} values")
        if max(out_indices) >= num_stages:
            raise ValueError(f"out_indices {out_indices} must be below num_stages={num_stages}")
        self.embed_dims = embed_dims
        self.num_stages = num_stages
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.patch_sizes = patch_sizes
        self.strides = strides
        self.sr_ratios = sr_ratios
        self.out_indices = out_indices
        self.pretrained = pretrained

        rates = [x.item() for x in torch.linspace(0, drop_path_rate, sum(num_layers),
                                                    device="cpu")]
        first = 0
        self.layers = ModuleList()
        for i, num_layer in enumerate(num_layers):
            dims = embed_dims * num_heads[i]
            patch_embed = PatchEmbed(in_channels=in_channels, embed_dims=dims,
                                     kernel_size=patch_sizes[i], stride=strides[i],
                                     padding=paddings[i], bias=True, norm_cfg=norm_cfg)
            blocks = ModuleList()
            if use_abs_pos_embed:
                pos_shape = np.array(pretrain_img_size) // int(np.prod(patch_sizes[:i + 1]))
                blocks.append(AbsolutePositionEmbedding(pos_shape=tuple(pos_shape.tolist()),
                                                        pos_dim=dims, drop_rate=drop_rate))
            blocks.extend(PVTEncoderLayer(
                embed_dims=dims, num_heads=num_heads[i],
                feedforward_channels=mlp_ratios[i] * dims, drop_rate=drop_rate,
                attn_drop_rate=attn_drop_rate, drop_path_rate=rates[first + j],
                qkv_bias=qkv_bias, act_cfg=act_cfg, norm_cfg=norm_cfg, sr_ratio=sr_ratios[i],
                use_conv_ffn=use_conv_ffn) for j in range(num_layer))
            norm = build_norm_layer(norm_cfg, dims)[1] if norm_after_stage else nn.Identity()
            self.layers.append(ModuleList([patch_embed, blocks, norm]))
            in_channels = dims
            first += num_layer

    def init_weights(self) -> None:
        """MMDetection's random initialisation, or the ``init_cfg`` checkpoint."""
        if self.init_cfg is None:
            logger.info("No pre-trained weights for %s, training start from scratch",
                        type(self).__name__)
            for m in self.modules():
                if isinstance(m, nn.Linear):
                    nn.init.trunc_normal_(m.weight, std=0.02)
                    if m.bias is not None:
                        nn.init.zeros_(m.bias)
                elif isinstance(m, nn.LayerNorm):
                    nn.init.ones_(m.weight)
                    nn.init.zeros_(m.bias)
                elif isinstance(m, nn.Conv2d):
                    fan_out = m.kernel_size[0] * m.kernel_size[1] * m.out_channels // m.groups
                    nn.init.normal_(m.weight, 0, math.sqrt(2.0 / fan_out))
                    if m.bias is not None:
                        nn.init.zeros_(m.bias)
                elif isinstance(m, AbsolutePositionEmbedding):
                    m.init_weights()
        else:
            self._load_pretrained(self.init_cfg)
        self._is_init = True

    def _load_pretrained(self, init_cfg: Any) -> None:
        from detbox.utils.checkpoint import (
            load_checkpoint_file,
            load_checkpoint_with_prefix,
            load_state_dict,
        )
        if not isinstance(init_cfg, dict) or "checkpoint" not in init_cfg:
            raise ValueError(f"{type(self).__name__} supports only init_cfg=dict(checkpoint=..., "
                             f"prefix=None) (a Pretrained checkpoint), got {init_cfg}")
        filename, prefix = init_cfg["checkpoint"], init_cfg.get("prefix")
        if prefix:
            state_dict = load_checkpoint_with_prefix(prefix, filename, map_location="cpu")
        else:
            checkpoint = load_checkpoint_file(filename, map_location="cpu")
            state_dict = checkpoint
            for key in ("state_dict", "model"):
                if isinstance(checkpoint, dict) and key in checkpoint:
                    state_dict = checkpoint[key]
                    break
        logger.info("load pre-trained model for %s from %s", type(self).__name__, filename)
        if self.convert_weights:
            state_dict = pvt_convert(state_dict)
        load_state_dict(self, state_dict, strict=False, logger=logger, source=filename)

    def forward(self, x: Tensor) -> list[Tensor]:
        """``(N, C, H, W)`` -> the ``out_indices`` stages' ``(N, C_i, H_i, W_i)`` maps."""
        outs = []
        for i, (patch_embed, blocks, norm) in enumerate(self.layers):
            x, hw_shape = patch_embed(x)
            for block in blocks:
                x = block(x, hw_shape)
            x = nlc_to_nchw(norm(x), hw_shape)
            if i in self.out_indices:
                outs.append(x)
        return outs


_V2_FIXED = dict(patch_sizes=[7, 3, 3, 3], paddings=[3, 1, 1, 1], use_abs_pos_embed=False,
                 norm_after_stage=True, use_conv_ffn=True)


@MODELS.register_module()
class PyramidVisionTransformerV2(PyramidVisionTransformer):
    """PVTv2 (Wang et al., 2022): overlapping patch embeddings (7x7 then 3x3), a depthwise conv
    in the FFN, no position embeddings, a norm after each stage.

    Takes :class:`PyramidVisionTransformer`'s arguments except those it fixes
    (``patch_sizes``, ``paddings``, ``use_abs_pos_embed``, ``norm_after_stage``,
    ``use_conv_ffn``).
    """

    def __init__(self, **kwargs: Any) -> None:
        fixed = sorted(set(kwargs) & set(_V2_FIXED))
        if fixed:
            raise TypeError(f"PyramidVisionTransformerV2 fixes {fixed}; they cannot be set")
        super().__init__(**_V2_FIXED, **kwargs)
