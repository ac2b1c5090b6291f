"""``CornerPool``: CornerNet's directional max pooling (mmcv 1.x's ``CornerPool``), pure PyTorch.

Each output pixel is the maximum of the input over a half-line starting at that pixel:

- ``'top'``: over the pixels at or **below** it (rows ``i..H-1``), so a top-left corner sees
  the object under it;
- ``'bottom'``: over the pixels at or above it (rows ``0..i``);
- ``'left'``: over the pixels at or to its right (columns ``j..W-1``);
- ``'right'``: over the pixels at or to its left (columns ``0..j``).

It is a cumulative maximum (``torch.cummax``), reversed for ``top`` and ``left``; the gradient
of an output flows to the input pixel that holds the maximum.

>>> import torch
>>> x = torch.tensor([[[[1., 3., 2.]]]])
>>> CornerPool('left')(x).tolist(), CornerPool('right')(x).tolist()
([[[[3.0, 3.0, 2.0]]]], [[[[1.0, 3.0, 3.0]]]])
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ...registry import LAYERS

__all__ = ["CornerPool", "corner_pool"]

# mode -> (dimension of [N, C, H, W], whether the maximum runs towards decreasing indices)
_MODES: dict[str, tuple[int, bool]] = {
    "top": (2, True), "bottom": (2, False), "left": (3, True), "right": (3, False),
}


def corner_pool(x: Tensor, mode: str) -> Tensor:
    """Directional cumulative maximum of ``x`` (``Tensor[N, C, H, W]``, same shape out)."""
    if mode not in _MODES:
        raise ValueError(f"CornerPool: mode must be one of {sorted(_MODES)}, got {mode!r}")
    dim, reverse = _MODES[mode]
    if reverse:
        return torch.cummax(x.flip(dim), dim=dim)[0].flip(dim)
    return torch.cummax(x, dim=dim)[0]


@LAYERS.register_module()
class CornerPool(nn.Module):
    """Corner pooling in one direction (``'top'``, ``'bottom'``, ``'left'`` or ``'right'``)."""

    def __init__(self, mode: str) -> None:
        super().__init__()
        if mode not in _MODES:
            raise ValueError(f"CornerPool: mode must be one of {sorted(_MODES)}, got {mode!r}")
        self.mode = mode

    def forward(self, x: Tensor) -> Tensor:
        """``Tensor[N, C, H, W] -> Tensor[N, C, H, W]``."""
        return corner_pool(x, self.mode)

    def extra_repr(self) -> str:
        return f"mode={self.mode!r}"
