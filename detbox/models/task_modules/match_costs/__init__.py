"""Match costs of the Hungarian assigner: ``Tensor[num_preds, num_gts]`` cost matrices."""

from .bbox_l1_cost import BBoxL1Cost
from .classification_cost import ClassificationCost
from .focal_loss_cost import FocalLossCost
from .iou_cost import IoUCost

__all__ = ["BBoxL1Cost", "ClassificationCost", "FocalLossCost", "IoUCost"]
