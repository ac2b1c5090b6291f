"""``MultiScaleDeformableAttention`` (Deformable DETR) in pure PyTorch.

Each query looks at ``num_points`` locations per head and per feature level, placed at
learned offsets around its reference point, and sums the bilinearly sampled values with
learned softmax weights. Sampling uses ``F.grid_sample`` (bilinear, zero padding,
``align_corners=False``), which is the definition mmcv's compiled op implements.

>>> attn = MultiScaleDeformableAttention(embed_dims=8, num_heads=2, num_levels=1, num_points=2)
>>> shapes = torch.tensor([[3, 4]])
>>> q = torch.rand(5, 1, 8)                         # [num_query, bs, embed_dims]
>>> value = torch.rand(12, 1, 8)                    # [sum(h * w), bs, embed_dims]
>>> ref = torch.rand(1, 5, 1, 2)                    # [bs, num_query, num_levels, 2]
>>> attn(q, value=value, reference_points=ref, spatial_shapes=shapes).shape
torch.Size([5, 1, 8])
"""

from __future__ import annotations

import math
import warnings

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from detbox.registry import LAYERS

from ...base_module import BaseModule
from ...weight_init import constant_init, xavier_init

__all__ = ["MultiScaleDeformableAttention", "multi_scale_deformable_attn_pytorch"]


def multi_scale_deformable_attn_pytorch(value: Tensor, value_spatial_shapes: Tensor,
                                        sampling_locations: Tensor,
                                        attention_weights: Tensor) -> Tensor:
    """Weighted sum of bilinear samples of multi-level values.

    Args:
        value: ``Tensor[bs, num_keys, num_heads, head_dims]``, the levels' pixels flattened
            and concatenated (``num_keys = sum(h * w)``).
        value_spatial_shapes: ``Tensor[num_levels, 2]``, ``(h, w)`` of each level.
        sampling_locations: ``Tensor[bs, num_queries, num_heads, num_levels, num_points, 2]``,
            ``(x, y)`` in ``[0, 1]`` of each level's extent.
        attention_weights: ``Tensor[bs, num_queries, num_heads, num_levels, num_points]``.

    Returns:
        ``Tensor[bs, num_queries, num_heads * head_dims]``.
    """
    bs, _, num_heads, head_dims = value.shape
    _, num_queries, _, num_levels, num_points, _ = sampling_locations.shape
    sizes = [int(h) * int(w) for h, w in value_spatial_shapes]
    values = value.split(sizes, dim=1)
    grids = 2 * sampling_locations - 1  # grid_sample's [-1, 1] coordinates
    samples = []
    for level, (h, w) in enumerate(value_spatial_shapes):
        # [bs, h*w, heads, d] -> [bs*heads, d, h, w]
        level_value = values[level].flatten(2).transpose(1, 2).reshape(
            bs * num_heads, head_dims, int(h), int(w))
        # [bs, q, heads, points, 2] -> [bs*heads, q, points, 2]
        level_grid = grids[:, :, :, level].transpose(1, 2).flatten(0, 1)
        samples.append(F.grid_sample(level_value, level_grid, mode="bilinear",
                                     padding_mode="zeros", align_corners=False))
    # [bs, q, heads, levels, points] -> [bs*heads, 1, q, levels*points]
    weights = attention_weights.transpose(1, 2).reshape(
        bs * num_heads, 1, num_queries, num_levels * num_points)
    # samples: levels x [bs*heads, d, q, points] -> [bs*heads, d, q, levels*points]
    out = (torch.stack(samples, dim=-2).flatten(-2) * weights).sum(-1)
    return out.view(bs, num_heads * head_dims, num_queries).transpose(1, 2).contiguous()


@LAYERS.register_module()
class MultiScaleDeformableAttention(BaseModule):
    """Deformable attention over several feature levels (mmcv 1.7 arguments and parameters).

    Args:
        embed_dims: query and value channels.
        num_heads: attention heads (``embed_dims`` must divide by it).
        num_levels: feature levels sampled.
        num_points: sampling points per head and level.
        im2col_step: kept for mmcv's compiled op; unused here.
        dropout: dropout on the output before the identity is added.
        batch_first: queries and values are ``[bs, n, c]`` instead of ``[n, bs, c]``.
        norm_cfg: kept for mmcv compatibility; unused.
        init_cfg: initialisation config (the defaults of :meth:`init_weights` apply anyway).
    """

    def __init__(self, embed_dims: int = 256, num_heads: int = 8, num_levels: int = 4,
                 num_points: int = 4, im2col_step: int = 64, dropout: float = 0.1,
                 batch_first: bool = False, norm_cfg: dict | None = None,
                 init_cfg: dict | list | None = None) -> None:
        super().__init__(init_cfg)
        if embed_dims % num_heads != 0:
            raise ValueError(f"embed_dims must be divisible by num_heads, but got {embed_dims} "
                             f"and {num_heads}")
        head_dims = embed_dims // num_heads
        if head_dims & (head_dims - 1) != 0:
            warnings.warn("MultiScaleDeformableAttention: embed_dims / num_heads is not a "
                          "power of 2 (slower in mmcv's CUDA op, no effect here)", stacklevel=2)
        self.norm_cfg = norm_cfg
        self.dropout = nn.Dropout(dropout)
        self.batch_first = batch_first
        self.im2col_step = im2col_step
        self.embed_dims = embed_dims
        self.num_levels = num_levels
        self.num_heads = num_heads
        self.num_points = num_points
        self.sampling_offsets = nn.Linear(embed_dims, num_heads * num_levels * num_points * 2)
        self.attention_weights = nn.Linear(embed_dims, num_heads * num_levels * num_points)
        self.value_proj = nn.Linear(embed_dims, embed_dims)
        self.output_proj = nn.Linear(embed_dims, embed_dims)
        self.init_weights()

    def init_weights(self) -> None:
        """Offsets start on a ring of directions (one per head), ``i + 1`` steps out for point
        ``i``; attention weights start uniform; projections Xavier-uniform."""
        constant_init(self.sampling_offsets, 0.0)
        device = self.sampling_offsets.weight.device
        if device.type != "meta":
            thetas = torch.arange(self.num_heads, dtype=torch.float32, device=device) * (
                2.0 * math.pi / self.num_heads)
            grid = torch.stack([thetas.cos(), thetas.sin()], -1)
            grid = (grid / grid.abs().max(-1, keepdim=True)[0]).view(
                self.num_heads, 1, 1, 2).repeat(1, self.num_levels, self.num_points, 1)
            for i in range(self.num_points):
                grid[:, :, i, :] *= i + 1
            self.sampling_offsets.bias.data = grid.view(-1)
        constant_init(self.attention_weights, val=0.0, bias=0.0)
        xavier_init(self.value_proj, distribution="uniform", bias=0.0)
        xavier_init(self.output_proj, distribution="uniform", bias=0.0)
        self._is_init = True

    def forward(self, query: Tensor, key: Tensor | None = None, value: Tensor | None = None,
                identity: Tensor | None = None, query_pos: Tensor | None = None,
                key_padding_mask: Tensor | None = None, reference_points: Tensor | None = None,
                spatial_shapes: Tensor | None = None, level_start_index: Tensor | None = None,
                **kwargs) -> Tensor:
        """Attend from ``query`` to the multi-level ``value``.

        Args:
            query: ``Tensor[num_query, bs, embed_dims]`` (``[bs, num_query, c]`` if
                ``batch_first``).
            key: unused (the values are sampled directly).
            value: ``Tensor[num_value, bs, embed_dims]``; ``query`` when ``None``.
            identity: added to the output; ``query`` when ``None``.
            query_pos: added to ``query`` before the offsets and weights are predicted.
            key_padding_mask: ``Tensor[bs, num_value]``, True where padded (zeroed values).
            reference_points: ``Tensor[bs, num_query, num_levels, 2]`` normalised ``(x, y)``,
                or ``[..., 4]`` boxes ``(cx, cy, w, h)`` that scale the offsets.
            spatial_shapes: ``Tensor[num_levels, 2]``, ``(h, w)`` per level.
            level_start_index: ``Tensor[num_levels]``; unused here.

        Returns:
            ``Tensor`` shaped like ``query``.
        """
        if value is None:
            value = query
        if identity is None:
            identity = query
        if query_pos is not None:
            query = query + query_pos
        if not self.batch_first:
            query = query.permute(1, 0, 2)
            value = value.permute(1, 0, 2)
        bs, num_query, _ = query.shape
        _, num_value, _ = value.shape
        if int((spatial_shapes[:, 0] * spatial_shapes[:, 1]).sum()) != num_value:
            raise ValueError(f"spatial_shapes {spatial_shapes.tolist()} do not add up to the "
                             f"{num_value} values")
        value = self.value_proj(value)
        if key_padding_mask is not None:
            value = value.masked_fill(key_padding_mask[..., None], 0.0)
        value = value.view(bs, num_value, self.num_heads, -1)
        offsets = self.sampling_offsets(query).view(
            bs, num_query, self.num_heads, self.num_levels, self.num_points, 2)
        weights = self.attention_weights(query).view(
            bs, num_query, self.num_heads, self.num_levels * self.num_points)
        weights = weights.softmax(-1).view(
            bs, num_query, self.num_heads, self.num_levels, self.num_points)
        if reference_points.shape[-1] == 2:
            normalizer = torch.stack([spatial_shapes[..., 1], spatial_shapes[..., 0]], -1)
            locations = (reference_points[:, :, None, :, None, :]
                         + offsets / normalizer[None, None, None, :, None, :])
        elif reference_points.shape[-1] == 4:
            locations = (reference_points[:, :, None, :, None, :2]
                         + offsets / self.num_points
                         * reference_points[:, :, None, :, None, 2:] * 0.5)
        else:
            raise ValueError(f"Last dim of reference_points must be 2 or 4, but get "
                             f"{reference_points.shape[-1]} instead.")
        output = multi_scale_deformable_attn_pytorch(value, spatial_shapes, locations, weights)
        output = self.output_proj(output)
        if not self.batch_first:
            output = output.permute(1, 0, 2)
        return self.dropout(output) + identity
