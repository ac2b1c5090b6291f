"""v2's ``mmdet.datasets.pipelines.loading``."""

from ..transforms.loading import *  # noqa: F401,F403
from ..transforms.loading import __all__  # noqa: F401
