"""Losses of MMDetection v2 (registered in ``MODELS``) and their reduction helpers."""

from .accuracy import Accuracy, accuracy
from .ae_loss import AssociativeEmbeddingLoss
from .cross_entropy_loss import (
    CrossEntropyLoss,
    binary_cross_entropy,
    cross_entropy,
    mask_cross_entropy,
)
from .focal_loss import FocalLoss, sigmoid_focal_loss
from .gaussian_focal_loss import GaussianFocalLoss, gaussian_focal_loss
from .gfocal_loss import (
    DistributionFocalLoss,
    QualityFocalLoss,
    distribution_focal_loss,
    quality_focal_loss,
)
from .ghm_loss import GHMC, GHMR
from .iou_loss import (
    BoundedIoULoss,
    CIoULoss,
    DIoULoss,
    GIoULoss,
    IoULoss,
    bounded_iou_loss,
    ciou_loss,
    diou_loss,
    giou_loss,
    iou_loss,
)
from .kd_loss import KnowledgeDistillationKLDivLoss, knowledge_distillation_kl_div_loss
from .mse_loss import MSELoss, mse_loss
from .smooth_l1_loss import L1Loss, SmoothL1Loss, l1_loss, smooth_l1_loss
from .utils import reduce_loss, weight_reduce_loss, weighted_loss
from .varifocal_loss import VarifocalLoss, varifocal_loss

__all__ = [
    "Accuracy", "accuracy", "AssociativeEmbeddingLoss", "CrossEntropyLoss",
    "binary_cross_entropy", "cross_entropy", "mask_cross_entropy", "FocalLoss",
    "sigmoid_focal_loss", "GaussianFocalLoss", "gaussian_focal_loss", "DistributionFocalLoss",
    "QualityFocalLoss", "distribution_focal_loss", "quality_focal_loss", "GHMC", "GHMR",
    "BoundedIoULoss", "CIoULoss", "DIoULoss", "GIoULoss", "IoULoss", "bounded_iou_loss",
    "ciou_loss", "diou_loss", "giou_loss", "iou_loss", "KnowledgeDistillationKLDivLoss",
    "knowledge_distillation_kl_div_loss", "MSELoss", "mse_loss", "L1Loss", "SmoothL1Loss",
    "l1_loss", "smooth_l1_loss", "reduce_loss", "weight_reduce_loss", "weighted_loss",
    "VarifocalLoss", "varifocal_loss",
]
