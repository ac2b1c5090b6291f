"""Instance masks: ``BitmapMasks``, ``PolygonMasks`` and pure mask helpers."""

from .base import BaseInstanceMasks
from .bitmap import BitmapMasks
from .functional import bitmap_to_polygon, encode_mask_results, polygon_to_bitmap, segm_to_bitmap
from .polygon import PolygonMasks

__all__ = ["BaseInstanceMasks", "BitmapMasks", "PolygonMasks", "bitmap_to_polygon",
           "encode_mask_results", "polygon_to_bitmap", "segm_to_bitmap"]
