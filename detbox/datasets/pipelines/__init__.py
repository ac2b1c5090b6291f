"""MMDetection v2's ``mmdet.datasets.pipelines``: the transforms under their v2 module path.

Every class of the ``TRANSFORMS`` (``PIPELINES``) registry is importable from here
(``from detbox.datasets.pipelines import Resize``), including ones registered later by user
modules; the transforms themselves live in :mod:`detbox.datasets.transforms`.
"""

from typing import Any

from ...registry import PIPELINES
from ..transforms import *  # noqa: F401,F403
from ..transforms import __all__ as _transform_names

__all__ = [*_transform_names, "PIPELINES"]


def __getattr__(name: str) -> Any:
    cls = PIPELINES.get(name)
    if cls is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r} (no transform "
                             f"of that name in the PIPELINES registry)")
    return cls
