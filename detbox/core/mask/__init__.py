"""v2's ``mmdet.core.mask``: instance masks (kept in :mod:`detbox.structures.masks`)."""

from ...structures.masks import *  # noqa: F401,F403
from ...structures.masks import __all__  # noqa: F401
