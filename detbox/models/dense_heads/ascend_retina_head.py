"""``AscendRetinaHead``: :class:`RetinaHead` with :class:`AscendAnchorHead`'s targets.

Same layers, arguments, defaults and results as ``RetinaHead``; the Ascend restrictions of
:class:`AscendAnchorHead` apply (``AscendMaxIoUAssigner``, no ``gt_bboxes_ignore``, negative
``allowed_border``).
"""

from __future__ import annotations

from ...registry import MODELS
from .ascend_anchor_head import AscendAnchorHead
from .retina_head import RetinaHead

__all__ = ["AscendRetinaHead"]


@MODELS.register_module()
class AscendRetinaHead(RetinaHead, AscendAnchorHead):
    """RetinaNet's head, Ascend variant (``get_targets`` from :class:`AscendAnchorHead`)."""
