"""Models; importing this package registers every model component in the registries."""

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
from .task_modules import AnchorGenerator

__all__ = ["AnchorGenerator"]
