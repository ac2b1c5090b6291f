"""Data structures shared by datasets and models (they import neither).

``masks``: per-image instance masks (``BitmapMasks``, ``PolygonMasks``).
"""

from .masks import BaseInstanceMasks, BitmapMasks, PolygonMasks

__all__ = ["BaseInstanceMasks", "BitmapMasks", "PolygonMasks"]
