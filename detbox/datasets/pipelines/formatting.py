"""v2's ``mmdet.datasets.pipelines.formatting`` (also spelled ``formating``)."""

from ..transforms.formatting import *  # noqa: F401,F403
from ..transforms.formatting import __all__  # noqa: F401
