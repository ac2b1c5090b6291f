"""Prior generators: anchors and points over feature-map grids."""

from .anchor_generator import AnchorGenerator
from .legacy_point_generator import PointGenerator
from .point_generator import MlvlPointGenerator

__all__ = ["AnchorGenerator", "MlvlPointGenerator", "PointGenerator"]
