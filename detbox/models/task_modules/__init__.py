"""Small pure callables that heads use: anchor generators, box coders, assigners, samplers."""

from .anchor_generator import AnchorGenerator

__all__ = ["AnchorGenerator"]
