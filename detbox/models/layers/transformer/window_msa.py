"""Window attention of the Swin Transformer: ``WindowMSA`` and ``ShiftWindowMSA``.

``WindowMSA`` is multi-head self-attention inside non-overlapping ``Wh x Ww`` windows with a
learned relative position bias: ``softmax(q k^T * scale + B + M) v`` where ``B[h, i, j]`` is
``relative_position_bias_table[relative_position_index[i, j], h]`` and ``M`` the optional
shift mask (0 inside a region, -100 across regions). It runs through
``torch.nn.functional.scaled_dot_product_attention`` with ``B + M`` as the additive mask, which
gives the explicit formula's result to float rounding (``tests/models/layers/transformer/
test_window_msa.py``).

``ShiftWindowMSA`` takes a ``[B, H * W, C]`` token grid, pads it at the bottom/right to a
multiple of the window size, optionally rolls it by ``-shift_size`` (the shifted windows), runs
``WindowMSA`` on every window and undoes the roll and the padding.

State_dict (MMDetection v2's): ``w_msa.relative_position_bias_table``
(``[(2Wh-1)(2Ww-1), heads]``), ``w_msa.relative_position_index`` (a buffer ``[Wh*Ww, Wh*Ww]``),
``w_msa.qkv.{weight,bias}``, ``w_msa.proj.{weight,bias}``.

>>> import torch
>>> attn = ShiftWindowMSA(embed_dims=8, num_heads=2, window_size=3, shift_size=1)
>>> tuple(attn(torch.zeros(2, 5 * 4, 8), (5, 4)).shape)
(2, 20, 8)
"""

from __future__ import annotations

from functools import lru_cache

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...base_module import BaseModule
from .drop import build_dropout
from .layout import to_2tuple

__all__ = ["WindowMSA", "ShiftWindowMSA", "relative_position_index", "window_partition",
           "window_reverse", "shift_window_mask"]


def relative_position_index(window_size: tuple[int, int]) -> Tensor:
    """``LongTensor[Wh*Ww, Wh*Ww]``: row of the bias table for each (query, key) pair.

    For positions ``(y1, x1)`` and ``(y2, x2)`` (row-major in the window) the index is
    ``(y1 - y2 + Wh - 1) * (2 * Ww - 1) + (x1 - x2 + Ww - 1)``.

    >>> relative_position_index((1, 2)).tolist()
    [[1, 0], [2, 1]]
    """
    wh, ww = window_size
    ys, xs = torch.meshgrid(torch.arange(wh), torch.arange(ww), indexing="ij")
    coords = torch.stack([ys.flatten(), xs.flatten()])  # [2, N]
    rel = coords[:, :, None] - coords[:, None, :]  # [2, N, N]
    return (rel[0] + wh - 1) * (2 * ww - 1) + (rel[1] + ww - 1)


def window_partition(x: Tensor, window_size: int) -> Tensor:
    """``Tensor[B, H, W, C]`` (``H``, ``W`` multiples of ``ws``) -> ``Tensor[B * nW, ws, ws, C]``
    with the windows of an image in row-major order."""
    b, h, w, c = x.shape
    x = x.view(b, h // window_size, window_size, w // window_size, window_size, c)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, window_size, window_size, c)


def window_reverse(windows: Tensor, height: int, width: int) -> Tensor:
    """Inverse of :func:`window_partition`: ``Tensor[B * nW, ws, ws, C]`` -> ``[B, H, W, C]``."""
    window_size = windows.shape[1]
    nh, nw = height // window_size, width // window_size
    x = windows.reshape(-1, nh, nw, window_size, window_size, windows.shape[-1])
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, height, width, windows.shape[-1])


@lru_cache(maxsize=32)
def shift_window_mask(height: int, width: int, window_size: int, shift_size: int,
                      device: torch.device | None = None) -> Tensor:
    """``Tensor[nW, ws*ws, ws*ws]``: 0 for token pairs of the same region of a shifted window,
    -100 for pairs that the cyclic shift brought together (``height``, ``width`` padded).

    Cached per arguments (the blocks of a stage share it); do not modify the result in place.
    """
    region = torch.zeros(height, width, device=device)
    bounds = (slice(0, -window_size), slice(-window_size, -shift_size), slice(-shift_size, None))
    label = 0
    for hs in bounds:
        for ws in bounds:
            region[hs, ws] = label
            label += 1
    windows = window_partition(region[None, :, :, None], window_size).flatten(1)  # [nW, N]
    diff = windows[:, None, :] - windows[:, :, None]
    return torch.zeros_like(diff).masked_fill(diff != 0, -100.0)


class WindowMSA(BaseModule):
    """Multi-head self-attention within windows, with a relative position bias.

    Args:
        embed_dims: token channels.
        num_heads: attention heads.
        window_size: ``(Wh, Ww)``.
        qkv_bias: bias of the ``qkv`` projection.
        qk_scale: scale of ``q k^T`` (``head_dims ** -0.5`` when ``None``).
        attn_drop_rate: dropout of the attention weights.
        proj_drop_rate: dropout after the output projection.
        init_cfg: initialisation config.
    """

    def __init__(self, embed_dims: int, num_heads: int, window_size: tuple[int, int],
                 qkv_bias: bool = True, qk_scale: float | None = None,
                 attn_drop_rate: float = 0.0, proj_drop_rate: float = 0.0,
                 init_cfg: dict | None = None) -> None:
        super().__init__(init_cfg)
        self.embed_dims = embed_dims
        self.window_size = to_2tuple(window_size)
        self.num_heads = num_heads
        self.scale = qk_scale or (embed_dims // num_heads) ** -0.5
        wh, ww = self.window_size
        self.relative_position_bias_table = nn.Parameter(
            torch.zeros((2 * wh - 1) * (2 * ww - 1), num_heads))
        self.register_buffer("relative_position_index", relative_position_index(self.window_size))
        self.qkv = nn.Linear(embed_dims, embed_dims * 3, bias=qkv_bias)
        self.attn_drop = nn.Dropout(attn_drop_rate)
        self.proj = nn.Linear(embed_dims, embed_dims)
        self.proj_drop = nn.Dropout(proj_drop_rate)

    def init_weights(self) -> None:
        """Truncated normal (std 0.02) bias table."""
        nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)
        self._is_init = True

    def relative_position_bias(self) -> Tensor:
        """``Tensor[heads, Wh*Ww, Wh*Ww]`` gathered from the table."""
        n = self.window_size[0] * self.window_size[1]
        bias = self.relative_position_bias_table[self.relative_position_index.view(-1)]
        return bias.view(n, n, -1).permute(2, 0, 1)

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        """Attention in each window.

        Args:
            x: ``Tensor[B * nW, N, C]`` tokens of ``N = Wh * Ww`` per window.
            mask: ``Tensor[nW, N, N]`` additive mask (values in ``(-inf, 0]``), or ``None``.

        Returns:
            ``Tensor[B * nW, N, C]``.
        """
        batch_windows, n, c = x.shape
        heads = self.num_heads
        qkv = self.qkv(x).reshape(batch_windows, n, 3, heads, c // heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]  # [B*nW, heads, N, d]
        bias = self.relative_position_bias()  # [heads, N, N]
        if mask is not None:
            num_windows = mask.shape[0]
            bias = bias[None] + mask[:, None]  # [nW, heads, N, N]
            shape = (batch_windows // num_windows, num_windows, heads, n, -1)
            q, k, v = q.reshape(shape), k.reshape(shape), v.reshape(shape)
        drop = self.attn_drop.p if self.training else 0.0
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias.to(q.dtype), dropout_p=drop,
                                             scale=self.scale)
        out = out.reshape(batch_windows, heads, n, -1).transpose(1, 2).reshape(batch_windows, n, c)
        return self.proj_drop(self.proj(out))


class ShiftWindowMSA(BaseModule):
    """(Shifted) window attention over a token grid of any size.

    Args:
        embed_dims: token channels.
        num_heads: attention heads.
        window_size: window side.
        shift_size: cyclic shift towards the bottom right (0: plain windows).
        qkv_bias: bias of the ``qkv`` projection.
        qk_scale: scale of ``q k^T`` (``head_dims ** -0.5`` when ``None``).
        attn_drop_rate: dropout of the attention weights.
        proj_drop_rate: dropout after the output projection.
        dropout_layer: ``build_dropout`` config applied to the output.
        init_cfg: initialisation config.
    """

    def __init__(self, embed_dims: int, num_heads: int, window_size: int, shift_size: int = 0,
                 qkv_bias: bool = True, qk_scale: float | None = None,
                 attn_drop_rate: float = 0.0, proj_drop_rate: float = 0.0,
                 dropout_layer: dict = dict(type="DropPath", drop_prob=0.0),  # noqa: B006
                 init_cfg: dict | None = None) -> None:
        super().__init__(init_cfg)
        if not 0 <= shift_size < window_size:
            raise ValueError(f"shift_size must be in [0, window_size), got {shift_size} for "
                             f"window_size {window_size}")
        self.window_size = window_size
        self.shift_size = shift_size
        self.w_msa = WindowMSA(embed_dims=embed_dims, num_heads=num_heads,
                               window_size=to_2tuple(window_size), qkv_bias=qkv_bias,
                               qk_scale=qk_scale, attn_drop_rate=attn_drop_rate,
                               proj_drop_rate=proj_drop_rate)
        self.drop = build_dropout(dropout_layer)

    def forward(self, query: Tensor, hw_shape: tuple[int, int]) -> Tensor:
        """``Tensor[B, H * W, C]`` on an ``(H, W)`` grid -> ``Tensor[B, H * W, C]``."""
        b, length, c = query.shape
        h, w = hw_shape
        if length != h * w:
            raise ValueError(f"{length} tokens do not fill a {h} x {w} grid")
        ws, shift = self.window_size, self.shift_size
        x = query.view(b, h, w, c)
        pad_r, pad_b = (ws - w % ws) % ws, (ws - h % ws) % ws
        x = F.pad(x, (0, 0, 0, pad_r, 0, pad_b))
        h_pad, w_pad = x.shape[1], x.shape[2]
        mask = None
        if shift > 0:
            x = torch.roll(x, shifts=(-shift, -shift), dims=(1, 2))
            mask = shift_window_mask(h_pad, w_pad, ws, shift, device=x.device)
        windows = window_partition(x, ws).reshape(-1, ws * ws, c)  # [B*nW, ws*ws, C]
        windows = self.w_msa(windows, mask=mask).reshape(-1, ws, ws, c)
        x = window_reverse(windows, h_pad, w_pad)
        if shift > 0:
            x = torch.roll(x, shifts=(shift, shift), dims=(1, 2))
        if pad_r or pad_b:
            x = x[:, :h, :w, :]
        return self.drop(x.reshape(b, h * w, c))
