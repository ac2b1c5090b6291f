"""Dense (per-location) heads: RPN and one-stage detector heads."""

from .anchor_head import AnchorHead
from .base_dense_head import BaseDenseHead
from .rpn_head import RPNHead

__all__ = ["AnchorHead", "BaseDenseHead", "RPNHead"]
