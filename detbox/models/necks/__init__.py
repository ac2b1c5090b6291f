"""Necks; importing this package registers them in ``MODELS``.

A config's ``neck`` may be a list of neck configs applied in sequence; the detector builds
that (not the necks).
"""

from .fpn import FPN

__all__ = ["FPN"]
