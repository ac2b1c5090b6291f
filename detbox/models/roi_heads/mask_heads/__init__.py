"""RoI mask heads, HTC's semantic head, Mask Scoring's IoU head, and mask targets."""

from .fcn_mask_head import FCNMaskHead
from .fused_semantic_head import FusedSemanticHead
from .htc_mask_head import HTCMaskHead
from .mask_target import mask_target
from .maskiou_head import MaskIoUHead
from .paste import paste_masks

__all__ = ["FCNMaskHead", "FusedSemanticHead", "HTCMaskHead", "MaskIoUHead", "mask_target",
           "paste_masks"]
