"""Positional encodings of DETR-style heads: ``SinePositionalEncoding`` and
``LearnedPositionalEncoding`` (MMDetection 2.x names and arguments).

Both map a padding mask ``Tensor[B, H, W]`` (non-zero where padded) to an encoding
``Tensor[B, 2 * num_feats, H, W]``: the first ``num_feats`` channels encode y, the rest x
(sine) or x then y (learned), as MMDetection does.

>>> pe = SinePositionalEncoding(num_feats=4, normalize=True)
>>> pe(torch.zeros(1, 2, 3, dtype=torch.bool)).shape
torch.Size([1, 8, 2, 3])
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from detbox.registry import LAYERS

from ...base_module import BaseModule

__all__ = ["SinePositionalEncoding", "LearnedPositionalEncoding"]

_UNIFORM_EMBEDDING = {"type": "Uniform", "layer": "Embedding"}  # default init_cfg (read only)


@LAYERS.register_module()
class SinePositionalEncoding(BaseModule):
    """Sine/cosine encoding of the (optionally normalised) row and column of each valid pixel.

    Args:
        num_feats: channels per axis; the output has ``2 * num_feats``.
        temperature: base of the frequencies ``temperature ** (2 * (i // 2) / num_feats)``.
        normalize: divide the cumulative positions by the last one (and multiply by ``scale``).
        scale: factor of the normalised positions.
        eps: added to the divisor when normalising.
        offset: added to the positions before normalising (Deformable DETR uses ``-0.5``).
        init_cfg: initialisation config (nothing to initialise).
    """

    def __init__(self, num_feats: int, temperature: int = 10000, normalize: bool = False,
                 scale: float = 2 * math.pi, eps: float = 1e-6, offset: float = 0.0,
                 init_cfg: dict | list | None = None) -> None:
        super().__init__(init_cfg)
        if normalize and not isinstance(scale, (float, int)):
            raise TypeError(f"when normalize is set, scale must be a float or an int, got "
                            f"{type(scale)}")
        self.num_feats = num_feats
        self.temperature = temperature
        self.normalize = normalize
        self.scale = scale
        self.eps = eps
        self.offset = offset

    def forward(self, mask: Tensor) -> Tensor:
        """``mask: Tensor[B, H, W]`` (True/1 = padding) -> ``Tensor[B, 2 * num_feats, H, W]``."""
        not_mask = 1 - mask.to(torch.int)
        y_embed = not_mask.cumsum(1, dtype=torch.float32)
        x_embed = not_mask.cumsum(2, dtype=torch.float32)
        if self.normalize:
            y_embed = (y_embed + self.offset) / (y_embed[:, -1:, :] + self.eps) * self.scale
            x_embed = (x_embed + self.offset) / (x_embed[:, :, -1:] + self.eps) * self.scale
        dim_t = torch.arange(self.num_feats, dtype=torch.float32, device=mask.device)
        dim_t = self.temperature ** (2 * (dim_t // 2) / self.num_feats)
        b, h, w = mask.size()
        pos_x = x_embed[:, :, :, None] / dim_t  # [B, H, W, F]
        pos_y = y_embed[:, :, :, None] / dim_t
        pos_x = torch.stack((pos_x[..., 0::2].sin(), pos_x[..., 1::2].cos()), dim=4)
        pos_y = torch.stack((pos_y[..., 0::2].sin(), pos_y[..., 1::2].cos()), dim=4)
        pos_x, pos_y = pos_x.view(b, h, w, -1), pos_y.view(b, h, w, -1)
        return torch.cat((pos_y, pos_x), dim=3).permute(0, 3, 1, 2)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(num_feats={self.num_feats}, "
                f"temperature={self.temperature}, normalize={self.normalize}, "
                f"scale={self.scale}, eps={self.eps})")


@LAYERS.register_module()
class LearnedPositionalEncoding(BaseModule):
    """Learned row and column embeddings, concatenated (x first, then y).

    Args:
        num_feats: channels per axis; the output has ``2 * num_feats``.
        row_num_embed: number of row embeddings (the largest feature height).
        col_num_embed: number of column embeddings (the largest feature width).
        init_cfg: initialisation config; uniform ``Embedding`` weights by default.
    """

    def __init__(self, num_feats: int, row_num_embed: int = 50, col_num_embed: int = 50,
                 init_cfg: dict | list | None = _UNIFORM_EMBEDDING) -> None:
        super().__init__(init_cfg)
        self.row_embed = nn.Embedding(row_num_embed, num_feats)
        self.col_embed = nn.Embedding(col_num_embed, num_feats)
        self.num_feats = num_feats
        self.row_num_embed = row_num_embed
        self.col_num_embed = col_num_embed

    def forward(self, mask: Tensor) -> Tensor:
        """``mask: Tensor[B, H, W]`` -> ``Tensor[B, 2 * num_feats, H, W]`` (mask values unused)."""
        h, w = mask.shape[-2:]
        x_embed = self.col_embed(torch.arange(w, device=mask.device))  # [W, F]
        y_embed = self.row_embed(torch.arange(h, device=mask.device))  # [H, F]
        pos = torch.cat((x_embed.unsqueeze(0).repeat(h, 1, 1),
                         y_embed.unsqueeze(1).repeat(1, w, 1)), dim=-1)  # [H, W, 2F]
        return pos.permute(2, 0, 1).unsqueeze(0).repeat(mask.shape[0], 1, 1, 1)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(num_feats={self.num_feats}, "
                f"row_num_embed={self.row_num_embed}, col_num_embed={self.col_num_embed})")
