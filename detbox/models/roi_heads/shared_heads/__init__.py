"""Heads shared by the box and mask branches of an RoI head."""

from .res_layer import ResLayerSharedHead

__all__ = ["ResLayerSharedHead"]
