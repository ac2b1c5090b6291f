"""Swin Transformer (Liu et al., 2021) with MMDetection v2's arguments and state_dict names.

Modules: ``patch_embed`` (:class:`PatchEmbed`: ``projection``, ``norm``), optional
``absolute_pos_embed`` (``[1, C, H/p, W/p]`` at ``pretrain_img_size``), ``stages.i``
(``blocks.j`` of :class:`SwinBlock`: ``norm1``, ``attn.w_msa``, ``norm2``, ``ffn``; and
``downsample`` (:class:`PatchMerging`) except in the last stage), and ``norm{i}`` for every
``i`` in ``out_indices``. Blocks alternate plain and shifted windows (shift ``window_size // 2``);
any input size works (patch embedding, merging and windows pad at the bottom/right). Stochastic
depth grows linearly from 0 to ``drop_path_rate`` over all blocks.

Pretrained weights: ``init_cfg=dict(type='Pretrained', checkpoint=...)`` (or the deprecated
``pretrained=...``) loads a detbox/MMDetection checkpoint (keys under ``backbone.``, or a bare
backbone state_dict) or, with ``convert_weights=True``, a file of the original Swin release
(converted by :func:`swin_converter`). URLs are looked up by file name in the torch hub cache
(``$TORCH_HOME/hub/checkpoints``), never downloaded. A relative position bias table of another
window size is resized (bicubic), as is an absolute position embedding of another
``pretrain_img_size``. Without ``init_cfg``, linear layers get truncated-normal weights
(std 0.02) and layer norms ones and zeros; the bias tables stay zero (MMDetection's rule).

>>> import torch
>>> net = SwinTransformer(embed_dims=8, depths=(1, 1), num_heads=(1, 2), window_size=3,
...                       out_indices=(0, 1)).eval()
>>> [tuple(f.shape) for f in net(torch.zeros(1, 3, 30, 22))]
[(1, 8, 8, 6), (1, 16, 4, 3)]
"""

from __future__ import annotations

import logging
import warnings
from typing import Sequence

import torch
import torch.nn.functional as F
import torch.utils.checkpoint as cp
from torch import Tensor, nn

from detbox.registry import MODELS

from ..base_module import BaseModule, ModuleList
from ..layers import build_norm_layer
from ..layers.transformer import FFN, PatchEmbed, PatchMerging, to_2tuple
from ..layers.transformer.window_msa import ShiftWindowMSA
from .stage_utils import FrozenStagesMixin, freeze
from .swin_converter import fit_state_dict, select_backbone_keys, swin_converter

__all__ = ["SwinBlock", "SwinBlockSequence", "SwinTransformer"]

logger = logging.getLogger(__name__)

_GELU = dict(type="GELU")
_LN = dict(type="LN")


class SwinBlock(BaseModule):
    """``x + attn(norm1(x))``, then ``x + ffn(norm2(x))`` (both branches with stochastic depth).

    Args:
        embed_dims: token channels.
        num_heads: attention heads.
        feedforward_channels: hidden channels of the FFN.
        window_size: window side.
        shift: use shifted windows (shift ``window_size // 2``).
        qkv_bias: bias of the ``qkv`` projection.
        qk_scale: scale of ``q k^T`` (``head_dims ** -0.5`` when ``None``).
        drop_rate: dropout after the attention projection and in the FFN.
        attn_drop_rate: dropout of the attention weights.
        drop_path_rate: stochastic depth of both branches.
        act_cfg: FFN activation.
        norm_cfg: norm config.
        with_cp: checkpoint the block's activations (``torch.utils.checkpoint``) in training.
        init_cfg: initialisation config.
    """

    def __init__(self, embed_dims: int, num_heads: int, feedforward_channels: int,
                 window_size: int = 7, shift: bool = False, qkv_bias: bool = True,
                 qk_scale: float | None = None, drop_rate: float = 0.0,
                 attn_drop_rate: float = 0.0, drop_path_rate: float = 0.0,
                 act_cfg: dict = _GELU, norm_cfg: dict = _LN, with_cp: bool = False,
                 init_cfg: dict | None = None) -> None:
        super().__init__(init_cfg)
        self.with_cp = with_cp
        self.norm1 = build_norm_layer(norm_cfg, embed_dims)[1]
        self.attn = ShiftWindowMSA(
            embed_dims=embed_dims, num_heads=num_heads, window_size=window_size,
            shift_size=window_size // 2 if shift else 0, qkv_bias=qkv_bias, qk_scale=qk_scale,
            attn_drop_rate=attn_drop_rate, proj_drop_rate=drop_rate,
            dropout_layer=dict(type="DropPath", drop_prob=drop_path_rate))
        self.norm2 = build_norm_layer(norm_cfg, embed_dims)[1]
        self.ffn = FFN(embed_dims=embed_dims, feedforward_channels=feedforward_channels,
                       num_fcs=2, ffn_drop=drop_rate,
                       dropout_layer=dict(type="DropPath", drop_prob=drop_path_rate),
                       act_cfg=act_cfg, add_identity=True)

    def forward(self, x: Tensor, hw_shape: tuple[int, int]) -> Tensor:
        """``Tensor[B, H * W, C]`` -> same shape."""

        def inner(x: Tensor) -> Tensor:
            x = x + self.attn(self.norm1(x), hw_shape)
            return self.ffn(self.norm2(x), identity=x)

        if self.with_cp and x.requires_grad:
            return cp.checkpoint(inner, x, use_reentrant=False)
        return inner(x)


class SwinBlockSequence(BaseModule):
    """One stage: ``depth`` blocks (even ones plain, odd ones shifted), then ``downsample``.

    Args:
        embed_dims: token channels.
        num_heads: attention heads.
        feedforward_channels: hidden channels of the FFNs.
        depth: number of blocks.
        window_size: window side.
        qkv_bias: bias of the ``qkv`` projections.
        qk_scale: scale of ``q k^T``.
        drop_rate: dropout rate.
        attn_drop_rate: attention dropout rate.
        drop_path_rate: stochastic depth, one value for all blocks or one per block.
        downsample: a :class:`PatchMerging` (or ``None``) applied after the blocks.
        act_cfg: FFN activation.
        norm_cfg: norm config.
        with_cp: activation checkpointing.
        init_cfg: initialisation config.
    """

    def __init__(self, embed_dims: int, num_heads: int, feedforward_channels: int, depth: int,
                 window_size: int = 7, qkv_bias: bool = True, qk_scale: float | None = None,
                 drop_rate: float = 0.0, attn_drop_rate: float = 0.0,
                 drop_path_rate: float | Sequence[float] = 0.0,
                 downsample: nn.Module | None = None, act_cfg: dict = _GELU,
                 norm_cfg: dict = _LN, with_cp: bool = False,
                 init_cfg: dict | None = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if isinstance(drop_path_rate, (list, tuple)):
            rates = list(drop_path_rate)
            if len(rates) != depth:
                raise ValueError(f"{len(rates)} drop path rates for {depth} blocks")
        else:
            rates = [drop_path_rate] * depth
        self.blocks = ModuleList()
        for i in range(depth):
            self.blocks.append(SwinBlock(
                embed_dims=embed_dims, num_heads=num_heads,
                feedforward_channels=feedforward_channels, window_size=window_size,
                shift=i % 2 == 1, qkv_bias=qkv_bias, qk_scale=qk_scale, drop_rate=drop_rate,
                attn_drop_rate=attn_drop_rate, drop_path_rate=rates[i], act_cfg=act_cfg,
                norm_cfg=norm_cfg, with_cp=with_cp))
        self.downsample = downsample

    def forward(self, x: Tensor, hw_shape: tuple[int, int]
                ) -> tuple[Tensor, tuple[int, int], Tensor, tuple[int, int]]:
        """Returns ``(x_down, down_hw, x, hw)``: the merged tokens for the next stage and this
        stage's output (``x_down is x`` without ``downsample``)."""
        for block in self.blocks:
            x = block(x, hw_shape)
        if self.downsample is not None:
            x_down, down_hw = self.downsample(x, hw_shape)
            return x_down, down_hw, x, hw_shape
        return x, hw_shape, x, hw_shape


@MODELS.register_module()
class SwinTransformer(FrozenStagesMixin, BaseModule):
    """Swin Transformer backbone (see the module docstring).

    Args:
        pretrain_img_size: image size of pretraining (int or ``(h, w)``); sizes the absolute
            position embedding.
        in_channels: image channels.
        embed_dims: channels of the first stage (doubled by each patch merging).
        patch_size: patch side of the embedding (must equal ``strides[0]``).
        window_size: attention window side.
        mlp_ratio: FFN hidden channels / token channels.
        depths: blocks per stage.
        num_heads: attention heads per stage.
        strides: patch embedding stride, then the patch merging stride of each later stage.
        out_indices: stages whose (normalised) outputs are returned.
        qkv_bias: bias of the ``qkv`` projections.
        qk_scale: scale of ``q k^T`` (``head_dims ** -0.5`` when ``None``).
        patch_norm: layer norm in the patch embedding and the patch mergings.
        drop_rate: dropout rate (after position embedding, attention projection, FFN).
        attn_drop_rate: attention dropout rate.
        drop_path_rate: stochastic depth of the last block (linear from 0).
        use_abs_pos_embed: add a learned absolute position embedding.
        act_cfg: FFN activation.
        norm_cfg: norm of blocks, patch layers and outputs.
        with_cp: activation checkpointing of every block.
        pretrained: deprecated checkpoint name (use ``init_cfg``).
        convert_weights: the checkpoint is in the original Swin release's layout.
        frozen_stages: freeze the patch embedding (``>= 0``) and stages ``1..frozen_stages``
            with their output norms (-1: nothing frozen).
        init_cfg: ``None`` or ``dict(type='Pretrained', checkpoint=..., prefix=None)``.
    """

    def __init__(self, pretrain_img_size: int | Sequence[int] = 224, in_channels: int = 3,
                 embed_dims: int = 96, patch_size: int = 4, window_size: int = 7,
                 mlp_ratio: float = 4, depths: Sequence[int] = (2, 2, 6, 2),
                 num_heads: Sequence[int] = (3, 6, 12, 24),
                 strides: Sequence[int] = (4, 2, 2, 2),
                 out_indices: Sequence[int] = (0, 1, 2, 3), qkv_bias: bool = True,
                 qk_scale: float | None = None, patch_norm: bool = True, drop_rate: float = 0.0,
                 attn_drop_rate: float = 0.0, drop_path_rate: float = 0.1,
                 use_abs_pos_embed: bool = False, act_cfg: dict = _GELU, norm_cfg: dict = _LN,
                 with_cp: bool = False, pretrained: str | None = None,
                 convert_weights: bool = False, frozen_stages: int = -1,
                 init_cfg: dict | None = None) -> None:
        if isinstance(pretrain_img_size, int):
            pretrain_img_size = to_2tuple(pretrain_img_size)
        else:
            pretrain_img_size = tuple(pretrain_img_size)
            if len(pretrain_img_size) == 1:
                pretrain_img_size = to_2tuple(pretrain_img_size[0])
            if len(pretrain_img_size) != 2:
                raise ValueError(f"pretrain_img_size should have length 1 or 2, got "
                                 f"{len(pretrain_img_size)}")
        if init_cfg and pretrained:
            raise ValueError("init_cfg and pretrained cannot be specified at the same time")
        if isinstance(pretrained, str):
            warnings.warn("pretrained is deprecated, please use init_cfg instead",
                          DeprecationWarning, stacklevel=2)
            init_cfg = dict(type="Pretrained", checkpoint=pretrained)
        elif pretrained is not None:
            raise TypeError(f"pretrained must be a str or None, got {type(pretrained).__name__}")
        if init_cfg is not None and (init_cfg.get("type") != "Pretrained"
                                     or "checkpoint" not in init_cfg):
            raise ValueError(f"SwinTransformer only supports init_cfg=dict(type='Pretrained', "
                             f"checkpoint=...), got {init_cfg}")
        if strides[0] != patch_size:
            raise ValueError(f"strides[0] ({strides[0]}) must equal patch_size ({patch_size}): "
                             f"the patch embedding does not overlap")
        super().__init__(init_cfg=init_cfg)
        self.convert_weights = convert_weights
        self.frozen_stages = frozen_stages
        self.out_indices = tuple(out_indices)
        self.use_abs_pos_embed = use_abs_pos_embed
        num_layers = len(depths)

        self.patch_embed = PatchEmbed(in_channels=in_channels, embed_dims=embed_dims,
                                      conv_type="Conv2d", kernel_size=patch_size,
                                      stride=strides[0],
                                      norm_cfg=norm_cfg if patch_norm else None)
        if use_abs_pos_embed:
            self.absolute_pos_embed = nn.Parameter(torch.zeros(
                1, embed_dims, pretrain_img_size[0] // patch_size,
                pretrain_img_size[1] // patch_size))
        self.drop_after_pos = nn.Dropout(p=drop_rate)

        rates = torch.linspace(0, drop_path_rate, sum(depths), device="cpu").tolist()
        self.stages = ModuleList()
        channels = embed_dims
        for i in range(num_layers):
            downsample = None
            if i < num_layers - 1:
                downsample = PatchMerging(in_channels=channels, out_channels=2 * channels,
                                          stride=strides[i + 1],
                                          norm_cfg=norm_cfg if patch_norm else None)
            self.stages.append(SwinBlockSequence(
                embed_dims=channels, num_heads=num_heads[i],
                feedforward_channels=int(mlp_ratio * channels), depth=depths[i],
                window_size=window_size, qkv_bias=qkv_bias, qk_scale=qk_scale,
                drop_rate=drop_rate, attn_drop_rate=attn_drop_rate,
                drop_path_rate=rates[sum(depths[:i]):sum(depths[:i + 1])],
                downsample=downsample, act_cfg=act_cfg, norm_cfg=norm_cfg, with_cp=with_cp))
            if downsample is not None:
                channels = downsample.out_channels
        self.num_features = [int(embed_dims * 2 ** i) for i in range(num_layers)]
        for i in self.out_indices:
            self.add_module(f"norm{i}", build_norm_layer(norm_cfg, self.num_features[i])[1])
        self._freeze_stages()

    def _freeze_stages(self) -> None:
        if self.frozen_stages >= 0:
            freeze([self.patch_embed])
            if self.use_abs_pos_embed:
                self.absolute_pos_embed.requires_grad = False
            self.drop_after_pos.eval()
        for i in range(1, self.frozen_stages + 1):
            if i - 1 in self.out_indices:
                freeze([getattr(self, f"norm{i - 1}")])
            freeze([self.stages[i - 1]])

    def init_weights(self) -> None:
        """Load ``init_cfg``'s checkpoint, or initialise from scratch (module docstring)."""
        if self._is_init:
            warnings.warn("init_weights of SwinTransformer has been called more than once.",
                          stacklevel=2)
            return
        if self.init_cfg is None:
            logger.info("No pre-trained weights for SwinTransformer, training start from scratch")
            if self.use_abs_pos_embed:
                nn.init.trunc_normal_(self.absolute_pos_embed, std=0.02)
            for m in self.modules():
                if isinstance(m, nn.Linear):
                    nn.init.trunc_normal_(m.weight, std=0.02)
                    if m.bias is not None:
                        nn.init.zeros_(m.bias)
                elif isinstance(m, nn.LayerNorm):
                    nn.init.ones_(m.weight)
                    nn.init.zeros_(m.bias)
        else:
            self.load_pretrained(self.init_cfg["checkpoint"], self.init_cfg.get("prefix"))
        self._is_init = True

    def load_pretrained(self, checkpoint: str, prefix: str | None = None) -> None:
        """Load a checkpoint (path, URL in the hub cache, ``torchvision://``...) into the backbone.

        Args:
            checkpoint: the file name.
            prefix: keys to take (``'backbone.'`` by default when some key has it; otherwise the
                whole state_dict).
        """
        from detbox.utils.checkpoint import load_checkpoint_file, load_state_dict

        ckpt = load_checkpoint_file(checkpoint, map_location="cpu")
        if not isinstance(ckpt, dict):
            raise RuntimeError(f"no state_dict found in checkpoint {checkpoint}")
        state = ckpt.get("state_dict", ckpt.get("model", ckpt))
        release_layout = any(k.startswith("layers.0.blocks.") for k in state)
        if self.convert_weights and release_layout:
            state = swin_converter(state)
        elif self.convert_weights:
            logger.info("%s is not in the Swin release layout (no layers.N.blocks.*): loaded "
                        "without conversion", checkpoint)
        elif release_layout:
            logger.warning("%s looks like an original Swin release file (layers.N.blocks...); "
                           "set convert_weights=True in the backbone config", checkpoint)
        state = select_backbone_keys(state, prefix, checkpoint)
        state = fit_state_dict(state, self.state_dict())
        logger.info("load SwinTransformer from: %s", checkpoint)
        load_state_dict(self, state, strict=False, logger=logger, source=checkpoint)

    def forward(self, x: Tensor) -> tuple[Tensor, ...]:
        """``Tensor[B, C, H, W]`` -> the normalised maps ``[B, C_i, H_i, W_i]`` of
        ``out_indices``."""
        x, hw_shape = self.patch_embed(x)
        if self.use_abs_pos_embed:
            pos = self.absolute_pos_embed
            if tuple(pos.shape[2:]) != tuple(hw_shape):
                pos = F.interpolate(pos, size=hw_shape, mode="bicubic", align_corners=False)
            x = x + pos.flatten(2).transpose(1, 2)
        x = self.drop_after_pos(x)
        outs = []
        for i, stage in enumerate(self.stages):
            x, hw_shape, out, out_hw = stage(x, hw_shape)
            if i in self.out_indices:
                out = getattr(self, f"norm{i}")(out)
                outs.append(out.view(-1, *out_hw, self.num_features[i]).permute(0, 3, 1, 2)
                            .contiguous())
        return tuple(outs)
