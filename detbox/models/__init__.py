"""Models; importing this package registers every model component in the registries."""

from ..mmcompat import enabled_while

# Modules written for MMDetection v2 and dropped into these packages (the seed's way of adding
# a neck) import mmdet / mmcv names; they resolve to detbox while the packages load.
with enabled_while():
    from . import (  # noqa: F401  (imported for their registrations)
        backbones,
        dense_heads,
        detectors,
        layers,
        losses,
        necks,
        roi_heads,
        task_modules,
    )
from .builder import (
    BACKBONES,
    DETECTORS,
    HEADS,
    LOSSES,
    MODELS,
    NECKS,
    ROI_EXTRACTORS,
    SHARED_HEADS,
    build_backbone,
    build_detector,
    build_head,
    build_loss,
    build_neck,
    build_roi_extractor,
    build_shared_head,
)
from .task_modules import AnchorGenerator

__all__ = [
    "AnchorGenerator", "MODELS", "BACKBONES", "NECKS", "HEADS", "ROI_EXTRACTORS",
    "SHARED_HEADS", "LOSSES", "DETECTORS", "build_backbone", "build_detector", "build_head",
    "build_loss", "build_neck", "build_roi_extractor", "build_shared_head",
]
