"""``AscendSSDHead``: :class:`SSDHead` with :class:`AscendAnchorHead`'s targets.

MMDetection's Ascend version mines the hard negatives of all images at once (a top-k over
every anchor with a per-image count mask) and divides the box loss by ``num_pos + eps``
(``eps`` of float32, 1.2e-7): the same losses as ``SSDHead`` up to that ``eps`` (a relative
difference below 1.2e-7 / ``num_pos``, far under float32 noise of the sums). Here the losses
are :class:`SSDHead`'s; ``reg_decoded_bbox`` must be ``False`` as in MMDetection, and the
Ascend restrictions of :class:`AscendAnchorHead` apply.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor

from ...registry import MODELS
from .ascend_anchor_head import AscendAnchorHead
from .ssd_head import SSDHead

__all__ = ["AscendSSDHead"]


@MODELS.register_module()
class AscendSSDHead(SSDHead, AscendAnchorHead):
    """SSD's head, Ascend variant; :class:`SSDHead`'s arguments and defaults."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.reg_decoded_bbox:
            raise ValueError("AscendSSDHead: reg_decoded_bbox=True is not supported (as in "
                             "MMDetection)")

    def get_static_anchors(self, featmap_sizes: list, img_metas: list[dict],
                           device: Any = "cpu") -> tuple[list[list[Tensor]], list[list[Tensor]]]:
        """:meth:`get_anchors` computed once and reused (MMDetection's static anchors: the
        first call's sizes and metas hold for every later call)."""
        if getattr(self, "static_anchors", None) is None:
            self.static_anchors, self.static_valid_flags = self.get_anchors(
                featmap_sizes, img_metas, device)
        return self.static_anchors, self.static_valid_flags
