"""Small helpers shared by the transforms: repr formatting and unsupported-field checks."""

from __future__ import annotations

from typing import Any


def format_repr(obj: Any, *names: str) -> str:
    """``ClassName(a=1, b='x')`` from the attributes ``names`` of ``obj``.

    >>> class T:
    ...     def __init__(self):
    ...         self.p, self.mode = 0.5, 'range'
    >>> format_repr(T(), 'p', 'mode')
    "T(p=0.5, mode='range')"
    """
    args = ", ".join(f"{n}={getattr(obj, n)!r}" for n in names)
    return f"{type(obj).__name__}({args})"


def check_no_masks(results: dict, transform: str) -> None:
    """Raise if ``results`` carries instance masks or segmentation maps (boxes only here)."""
    for key in ("mask_fields", "seg_fields"):
        if results.get(key):
            raise NotImplementedError(
                f"{transform} got {key}={results[key]}, but detbox pipelines support boxes "
                f"only (no instance masks or segmentation maps yet)"
            )


def img_keys(results: dict) -> list[str]:
    """The image keys a transform acts on (``img_fields``, or ``['img']``)."""
    return results.get("img_fields", ["img"])
