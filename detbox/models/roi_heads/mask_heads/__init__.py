"""RoI mask heads and their targets."""

from .fcn_mask_head import FCNMaskHead
from .mask_target import mask_target
from .paste import paste_masks

__all__ = ["FCNMaskHead", "mask_target", "paste_masks"]
