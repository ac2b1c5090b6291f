"""Pipeline transforms with MMDetection v2 names; importing registers them."""

from .compose import Compose

__all__ = ["Compose"]
