"""``Compose``: run pipeline transforms in order."""

from __future__ import annotations

from typing import Any, Callable, Sequence

from ...registry import TRANSFORMS


@TRANSFORMS.register_module()
class Compose:
    """Apply transforms one after another; a transform returning ``None`` drops the sample.

    Args:
        transforms: transform objects or config dicts (built through ``TRANSFORMS``).

    >>> Compose([lambda r: {**r, 'x': r['x'] + 1}])({'x': 1})
    {'x': 2}
    """

    def __init__(self, transforms: Sequence[dict | Callable]) -> None:
        if not isinstance(transforms, (list, tuple)):
            raise TypeError(f"transforms must be a list, got {type(transforms).__name__}")
        self.transforms: list[Callable] = []
        for t in transforms:
            if isinstance(t, dict):
                t = TRANSFORMS.build(t)
            elif not callable(t):
                raise TypeError(f"transform must be callable or a dict, got {type(t).__name__}")
            self.transforms.append(t)

    def __call__(self, results: dict[str, Any]) -> dict[str, Any] | None:
        for t in self.transforms:
            results = t(results)
            if results is None:
                return None
        return results

    def __repr__(self) -> str:
        inner = "".join("\n    " + repr(t).replace("\n", "\n    ") for t in self.transforms)
        return f"{self.__class__.__name__}({inner}\n)"
