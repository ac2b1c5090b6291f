"""v2's ``mmdet.datasets.pipelines.compose``."""

from ..transforms.compose import Compose

__all__ = ["Compose"]
