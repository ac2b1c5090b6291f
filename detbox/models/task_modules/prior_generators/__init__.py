"""Prior generators: anchors and points over feature-map grids."""

from .anchor_generator import AnchorGenerator
from .legacy_point_generator import PointGenerator
from .point_generator import MlvlPointGenerator
from .ssd_anchor_generator import SSDAnchorGenerator
from .yolo_anchor_generator import YOLOAnchorGenerator

__all__ = [
    "AnchorGenerator", "PointGenerator", "MlvlPointGenerator", "SSDAnchorGenerator",
    "YOLOAnchorGenerator",
]
