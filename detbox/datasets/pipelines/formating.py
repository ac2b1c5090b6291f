"""v2's ``mmdet.datasets.pipelines.formatting`` (v2 kept this misspelt alias)."""

from ..transforms.formatting import *  # noqa: F401,F403
from ..transforms.formatting import __all__  # noqa: F401
