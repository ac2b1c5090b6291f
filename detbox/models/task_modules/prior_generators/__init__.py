"""Prior generators: anchors and points over feature-map grids."""

from .anchor_generator import AnchorGenerator
from .point_generator import MlvlPointGenerator
from .ssd_anchor_generator import SSDAnchorGenerator
from .yolo_anchor_generator import YOLOAnchorGenerator

__all__ = ["AnchorGenerator", "MlvlPointGenerator", "SSDAnchorGenerator", "YOLOAnchorGenerator"]
