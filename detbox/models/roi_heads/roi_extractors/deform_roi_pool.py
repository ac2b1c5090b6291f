"""Deformable RoI pooling (mmcv 1.x's ``DeformRoIPool``, ``DeformRoIPoolPack`` and
``ModulatedDeformRoIPoolPack``) in pure PyTorch.

Each output bin ``(ph, pw)`` of a RoI is an average of bilinear samples, as RoIAlign with
``aligned=True`` (half-pixel shift, ``ceil(roi_size / output_size)`` samples per bin side when
``sampling_ratio=0``), except that the bin's sampling grid is moved by ``gamma * roi_width *
offset[:, 0, ph, pw]`` and ``gamma * roi_height * offset[:, 1, ph, pw]``. With zero offsets it
*is* RoIAlign::

    >>> import torch
    >>> from torchvision.ops import roi_align
    >>> x = torch.randn(1, 3, 12, 12)
    >>> rois = torch.tensor([[0., 1.5, 2.0, 9.0, 10.5]])
    >>> out = deform_roi_pool(x, rois, torch.zeros(1, 2, 2, 2), (2, 2))
    >>> torch.allclose(out, roi_align(x, rois, (2, 2), 1.0, 0, True), atol=1e-6)
    True

Gradients are mmcv's (its compiled kernel has no CPU version, so this one is written from its
formulas): the input's through the bilinear weights, the offsets' from the four corner values
and the *unclamped* sample position, so a sample clamped at the top/left border (-1 < y < 0)
still passes a gradient to the offsets and one clamped at the bottom/right passes none. The
RoIs get no gradient, as in mmcv.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.modules.utils import _pair

from ....registry import LAYERS

__all__ = ["deform_roi_pool", "DeformRoIPool", "DeformRoIPoolPack", "ModulatedDeformRoIPoolPack"]

# samples x channels gathered at once (four corners each); bounds the memory of one chunk
_CHUNK_ELEMENTS = 1 << 22


def _corner_gradient(lo: Tensor, hi: Tensor, pos: Tensor, v_lo_lo: Tensor, v_lo_hi: Tensor,
                     v_hi_lo: Tensor, v_hi_hi: Tensor) -> Tensor:
    """mmcv's ``d value / d other-coordinate`` factor: ``(pos - lo) (v_hi_hi - v_hi_lo) +
    (hi - pos) (v_lo_hi - v_lo_lo)`` with the unclamped ``pos``; zero where ``lo == hi``."""
    return ((pos - lo)[:, None] * (v_hi_hi - v_hi_lo) + (hi - pos)[:, None] * (v_lo_hi - v_lo_lo))


def _bilinear(flat: Tensor, base: Tensor, y: Tensor, x: Tensor, height: int,
              width: int) -> Tensor:
    """mmcv's ``bilinear_interpolate`` of ``flat: Tensor[B * H * W, C]`` at ``y, x: Tensor[N]``
    (image ``base / (H * W)``), with mmcv's gradients (see the module docstring).

    Returns ``Tensor[N, C]``; zero outside ``[-1, H] x [-1, W]``.
    """
    inside = (y >= -1) & (y <= height) & (x >= -1) & (x <= width)
    yr, xr = y.detach(), x.detach()
    yc, xc = yr.clamp(min=0), xr.clamp(min=0)
    y_lo, x_lo = yc.floor().long(), xc.floor().long()  # int() of a value >= 0
    top_y, top_x = y_lo >= height - 1, x_lo >= width - 1
    y_lo = torch.where(top_y, height - 1, y_lo)
    x_lo = torch.where(top_x, width - 1, x_lo)
    y_hi = torch.where(top_y, y_lo, y_lo + 1)
    x_hi = torch.where(top_x, x_lo, x_lo + 1)
    yc = torch.where(top_y, y_lo.to(yc.dtype), yc)
    xc = torch.where(top_x, x_lo.to(xc.dtype), xc)
    ly, lx = yc - y_lo, xc - x_lo
    hy, hx = 1 - ly, 1 - lx
    row_lo, row_hi = base + y_lo * width, base + y_hi * width
    v1, v2 = flat[row_lo + x_lo], flat[row_lo + x_hi]  # [N, C] each
    v3, v4 = flat[row_hi + x_lo], flat[row_hi + x_hi]
    w = [(hy * hx)[:, None], (hy * lx)[:, None], (ly * hx)[:, None], (ly * lx)[:, None]]
    value = w[0] * v1 + w[1] * v2 + w[2] * v3 + w[3] * v4
    if y.requires_grad or x.requires_grad:
        with torch.no_grad():
            y_lo_f, y_hi_f = y_lo.to(yr.dtype), y_hi.to(yr.dtype)
            x_lo_f, x_hi_f = x_lo.to(xr.dtype), x_hi.to(xr.dtype)
            d_x = _corner_gradient(y_lo_f, y_hi_f, yr, v1, v2, v3, v4)
            d_y = _corner_gradient(x_lo_f, x_hi_f, xr, v1, v3, v2, v4)
        value = value + (x - xr)[:, None] * d_x + (y - yr)[:, None] * d_y
    return value * inside[:, None].to(value.dtype)


def deform_roi_pool(input: Tensor, rois: Tensor, offset: Tensor | None,
                    output_size: int | tuple[int, int], spatial_scale: float = 1.0,
                    sampling_ratio: int = 0, gamma: float = 0.1) -> Tensor:
    """Deformable RoI pooling (mmcv's ``deform_roi_pool``).

    Args:
        input: ``Tensor[B, C, H, W]``.
        rois: ``Tensor[K, 5]``: ``(batch index, x1, y1, x2, y2)`` in image pixels.
        offset: ``Tensor[K, 2, h, w]`` (x then y, in units of ``gamma`` RoI sizes) or ``None``
            (zero offsets).
        output_size: ``(h, w)`` or an int.
        spatial_scale: ``1 / stride`` of ``input``.
        sampling_ratio: samples per bin side; 0 for ``ceil(roi_size / output_size)``.
        gamma: scale of the offsets.

    Returns:
        ``Tensor[K, C, h, w]``.
    """
    out_h, out_w = _pair(output_size)
    if rois.dim() != 2 or rois.size(1) != 5:
        raise ValueError(f"deform_roi_pool: rois must be [K, 5] (idx, x1, y1, x2, y2), got "
                         f"{tuple(rois.shape)}")
    num, channels, height, width = rois.size(0), *input.shape[1:]
    if offset is not None and tuple(offset.shape) != (num, 2, out_h, out_w):
        raise ValueError(f"deform_roi_pool: offset of shape {tuple(offset.shape)} should be "
                         f"{(num, 2, out_h, out_w)}")
    if num == 0:
        return input.new_zeros(0, channels, out_h, out_w)
    flat = input.permute(0, 2, 3, 1).reshape(-1, channels)  # [B * H * W, C]
    # sample positions in at least float32 (a bfloat16 coordinate is off by up to half a pixel)
    rois = rois.detach().to(torch.promote_types(input.dtype, torch.float32))
    starts_w, starts_h = rois[:, 1] * spatial_scale - 0.5, rois[:, 2] * spatial_scale - 0.5
    roi_w = (rois[:, 3] * spatial_scale - 0.5) - starts_w
    roi_h = (rois[:, 4] * spatial_scale - 0.5) - starts_h
    if sampling_ratio > 0:
        grid_h = torch.full_like(roi_h, sampling_ratio, dtype=torch.long)
        grid_w = torch.full_like(roi_w, sampling_ratio, dtype=torch.long)
    else:
        grid_h = torch.ceil(roi_h / out_h).long()
        grid_w = torch.ceil(roi_w / out_w).long()
    per_roi = max(int((grid_h.clamp(min=1).max() * grid_w.clamp(min=1).max()).item()), 1)
    step = max(1, _CHUNK_ELEMENTS // (per_roi * out_h * out_w * max(channels, 1)))
    outs = []
    for s in range(0, num, step):
        part = slice(s, s + step)
        outs.append(_pool_chunk(flat, rois[part, 0].long() * (height * width), starts_w[part],
                                starts_h[part], roi_w[part], roi_h[part], grid_h[part],
                                grid_w[part], None if offset is None else offset[part],
                                (out_h, out_w), gamma, height, width))
    return torch.cat(outs).to(input.dtype)


def _pool_chunk(flat: Tensor, base: Tensor, start_w: Tensor, start_h: Tensor, roi_w: Tensor,
                roi_h: Tensor, grid_h: Tensor, grid_w: Tensor, offset: Tensor | None,
                output_size: tuple[int, int], gamma: float, height: int,
                width: int) -> Tensor:
    """:func:`deform_roi_pool` of some RoIs (their values as 1-dim ``[K]`` tensors)."""
    out_h, out_w = output_size
    num = start_w.numel()
    bin_h, bin_w = roi_h / out_h, roi_w / out_w  # [K]
    sw = start_w[:, None, None].expand(num, out_h, out_w)  # [K, h, w]
    sh = start_h[:, None, None].expand(num, out_h, out_w)
    if offset is not None:
        offset = offset.to(sw.dtype)
        sw = sw + gamma * roi_w[:, None, None] * offset[:, 0]
        sh = sh + gamma * roi_h[:, None, None] * offset[:, 1]
    gh_max, gw_max = max(int(grid_h.max()), 1), max(int(grid_w.max()), 1)
    ph = torch.arange(out_h, dtype=sw.dtype, device=sw.device)
    pw = torch.arange(out_w, dtype=sw.dtype, device=sw.device)
    iy = torch.arange(gh_max, dtype=sw.dtype, device=sw.device) + 0.5
    ix = torch.arange(gw_max, dtype=sw.dtype, device=sw.device) + 0.5
    gh = grid_h.to(sw.dtype).clamp(min=1)[:, None, None, None, None]
    gw = grid_w.to(sw.dtype).clamp(min=1)[:, None, None, None, None]
    # [K, h, w, gh_max, 1] and [K, h, w, 1, gw_max], summed in mmcv's order
    y = ((sh + ph[None, :, None] * bin_h[:, None, None])[..., None, None]
         + iy[:, None] * bin_h[:, None, None, None, None] / gh)
    x = ((sw + pw[None, None, :] * bin_w[:, None, None])[..., None, None]
         + ix[None, :] * bin_w[:, None, None, None, None] / gw)
    shape = (num, out_h, out_w, gh_max, gw_max)
    y, x = y.expand(shape).reshape(-1), x.expand(shape).reshape(-1)
    bases = base[:, None, None, None, None].expand(shape).reshape(-1)
    values = _bilinear(flat, bases, y, x, height, width).view(*shape, -1)  # [..., C]
    used = ((torch.arange(gh_max, device=sw.device)[None, :, None] < grid_h[:, None, None])
            & (torch.arange(gw_max, device=sw.device)[None, None, :] < grid_w[:, None, None]))
    values = values * used[:, None, None, :, :, None].to(values.dtype)
    count = (grid_h * grid_w).clamp(min=1).to(values.dtype)[:, None, None, None]
    pooled = values.sum(dim=(3, 4)) / count  # [K, h, w, C]
    return pooled.permute(0, 3, 1, 2)


@LAYERS.register_module()
class DeformRoIPool(nn.Module):
    """Deformable RoI pooling with offsets given to ``forward`` (mmcv's class).

    Args:
        output_size: ``(h, w)`` or an int.
        spatial_scale: ``1 / stride`` of the feature map.
        sampling_ratio: samples per bin side; 0 for adaptive.
        gamma: scale of the offsets.
    """

    def __init__(self, output_size: int | tuple[int, int], spatial_scale: float = 1.0,
                 sampling_ratio: int = 0, gamma: float = 0.1) -> None:
        super().__init__()
        self.output_size = _pair(output_size)
        self.spatial_scale = float(spatial_scale)
        self.sampling_ratio = int(sampling_ratio)
        self.gamma = float(gamma)

    def forward(self, input: Tensor, rois: Tensor, offset: Tensor | None = None) -> Tensor:
        """``input: Tensor[B, C, H, W]``, ``rois: Tensor[K, 5]`` -> ``Tensor[K, C, h, w]``."""
        return deform_roi_pool(input, rois, offset, self.output_size, self.spatial_scale,
                               self.sampling_ratio, self.gamma)

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, spatial_scale={self.spatial_scale}, "
                f"sampling_ratio={self.sampling_ratio}, gamma={self.gamma}")


def _fc_stack(in_features: int, hidden: int, out_features: int, depth: int) -> nn.Sequential:
    """``Linear, ReLU`` x ``depth - 1`` then a zero-initialised ``Linear`` (mmcv's layout)."""
    layers: list[nn.Module] = []
    for i in range(depth - 1):
        layers += [nn.Linear(in_features if i == 0 else hidden, hidden), nn.ReLU(inplace=True)]
    layers.append(nn.Linear(hidden, out_features))
    nn.init.zeros_(layers[-1].weight)
    nn.init.zeros_(layers[-1].bias)
    return nn.Sequential(*layers)


@LAYERS.register_module()
class DeformRoIPoolPack(DeformRoIPool):
    """Deformable RoI pooling that predicts its offsets (type ``DeformRoIPoolPack``): a plain
    pooling, ``offset_fc`` (3 linear layers, the last zero-initialised) on it, then the
    deformable pooling with those offsets.

    Args:
        output_size: ``(h, w)`` or an int.
        output_channels: channels of the input (and output).
        deform_fc_channels: hidden width of ``offset_fc``.
        spatial_scale: ``1 / stride`` of the feature map.
        sampling_ratio: samples per bin side; 0 for adaptive.
        gamma: scale of the offsets.
    """

    def __init__(self, output_size: int | tuple[int, int], output_channels: int,
                 deform_fc_channels: int = 1024, spatial_scale: float = 1.0,
                 sampling_ratio: int = 0, gamma: float = 0.1) -> None:
        super().__init__(output_size, spatial_scale, sampling_ratio, gamma)
        self.output_channels = output_channels
        self.deform_fc_channels = deform_fc_channels
        bins = self.output_size[0] * self.output_size[1]
        self.offset_fc = _fc_stack(bins * output_channels, deform_fc_channels, bins * 2, 3)

    def _offset(self, plain: Tensor) -> Tensor:
        return self.offset_fc(plain.flatten(1)).view(-1, 2, *self.output_size)

    def forward(self, input: Tensor, rois: Tensor) -> Tensor:  # type: ignore[override]
        """``input: Tensor[B, C, H, W]``, ``rois: Tensor[K, 5]`` -> ``Tensor[K, C, h, w]``."""
        if input.size(1) != self.output_channels:
            raise ValueError(f"{type(self).__name__}: input has {input.size(1)} channels, "
                             f"output_channels is {self.output_channels}")
        plain = super().forward(input, rois)
        return super().forward(input, rois, self._offset(plain))


@LAYERS.register_module()
class ModulatedDeformRoIPoolPack(DeformRoIPoolPack):
    """:class:`DeformRoIPoolPack` whose output is also scaled per bin by ``mask_fc`` (2 linear
    layers, the last zero-initialised, then a sigmoid: 0.5 at the start). Takes the same
    arguments."""

    def __init__(self, output_size: int | tuple[int, int], output_channels: int,
                 deform_fc_channels: int = 1024, spatial_scale: float = 1.0,
                 sampling_ratio: int = 0, gamma: float = 0.1) -> None:
        super().__init__(output_size, output_channels, deform_fc_channels, spatial_scale,
                         sampling_ratio, gamma)
        bins = self.output_size[0] * self.output_size[1]
        self.mask_fc = nn.Sequential(
            *_fc_stack(bins * output_channels, deform_fc_channels, bins, 2), nn.Sigmoid())

    def forward(self, input: Tensor, rois: Tensor) -> Tensor:  # type: ignore[override]
        """``input: Tensor[B, C, H, W]``, ``rois: Tensor[K, 5]`` -> ``Tensor[K, C, h, w]``."""
        if input.size(1) != self.output_channels:
            raise ValueError(f"{type(self).__name__}: input has {input.size(1)} channels, "
                             f"output_channels is {self.output_channels}")
        plain = DeformRoIPool.forward(self, input, rois)
        mask = self.mask_fc(plain.flatten(1)).view(-1, 1, *self.output_size)
        return DeformRoIPool.forward(self, input, rois, self._offset(plain)) * mask
