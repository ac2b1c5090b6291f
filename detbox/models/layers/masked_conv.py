"""``MaskedConv2d``: a convolution evaluated only where a mask is set (mmcv 1.x's layer).

mmcv computes the outputs at the mask's positions with a compiled im2col and leaves zeros
elsewhere; here the whole convolution runs and the outputs outside the mask are set to zero,
which gives the same tensor. The layer is an ``nn.Conv2d`` (state_dict ``weight``, ``bias``),
so mmcv checkpoints load, and without a mask it is a plain convolution.

>>> import torch
>>> conv = MaskedConv2d(2, 3, 3, padding=1)
>>> x = torch.randn(1, 2, 4, 4)
>>> mask = torch.zeros(1, 4, 4, dtype=torch.bool)
>>> mask[0, 1, 2] = True
>>> out = conv(x, mask)
>>> torch.allclose(out[0, :, 1, 2], conv(x)[0, :, 1, 2]), int((out != 0).sum())
(True, 3)
"""

from __future__ import annotations

from torch import Tensor, nn
from torch.nn.modules.utils import _pair

__all__ = ["MaskedConv2d", "masked_conv2d"]


def masked_conv2d(conv_out: Tensor, mask: Tensor) -> Tensor:
    """Zero a convolution's outputs outside ``mask``.

    Args:
        conv_out: ``Tensor[B, C, H, W]`` convolution outputs.
        mask: ``Tensor[B or 1, H, W]`` (bool, or numbers: positive means kept).

    Returns:
        ``Tensor[B, C, H, W]``: ``conv_out`` where the mask is set, 0 elsewhere.
    """
    if mask.dim() != 3 or tuple(mask.shape[1:]) != tuple(conv_out.shape[2:]):
        raise ValueError(f"MaskedConv2d: mask of shape {tuple(mask.shape)} should be "
                         f"[B, {conv_out.shape[2]}, {conv_out.shape[3]}] (the output's size)")
    if mask.size(0) not in (1, conv_out.size(0)):
        raise ValueError(f"MaskedConv2d: mask has {mask.size(0)} images, the input "
                         f"{conv_out.size(0)}")
    keep = (mask > 0).unsqueeze(1)  # [B, 1, H, W]
    return conv_out * keep.to(conv_out.dtype)


class MaskedConv2d(nn.Conv2d):
    """``nn.Conv2d`` whose ``forward`` takes an optional mask of the output positions to keep.

    As in mmcv, only ``stride=1`` is supported with a mask. Arguments are ``nn.Conv2d``'s.
    """

    def forward(self, input: Tensor, mask: Tensor | None = None) -> Tensor:  # type: ignore[override]
        """``input: Tensor[B, C_in, H, W]``, ``mask: Tensor[B or 1, H', W']`` or ``None``.

        Returns:
            ``Tensor[B, C_out, H', W']``, zero outside the mask.
        """
        if mask is None:
            return super().forward(input)
        if _pair(self.stride) != (1, 1):
            raise ValueError(f"MaskedConv2d: stride {self.stride} is not supported with a mask "
                             "(only 1, as in mmcv)")
        return masked_conv2d(super().forward(input), mask)
