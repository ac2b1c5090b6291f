"""Models; importing this package registers every model component in the registries."""

from . import task_modules
from .task_modules import AnchorGenerator

__all__ = ["task_modules", "AnchorGenerator"]
