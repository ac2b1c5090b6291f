"""``Scale``: multiply by one learnable scalar (parameter ``scale``), as in FCOS-style heads.

>>> import torch
>>> Scale(2.0)(torch.ones(2))
tensor([2., 2.], grad_fn=<MulBackward0>)
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["Scale"]


class Scale(nn.Module):
    """``x * scale`` with ``scale`` a learnable 0-d float parameter starting at ``scale``."""

    def __init__(self, scale: float = 1.0) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(scale, dtype=torch.float))

    def forward(self, x: Tensor) -> Tensor:
        return x * self.scale
