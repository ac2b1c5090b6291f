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
    """Raise if ``results`` carries masks or segmentation maps that ``transform`` cannot move.

    MMDetection v2's versions of these transforms do not transform masks either (they raise,
    or leave the masks misaligned with the image); here they always raise.
    """
    for key in ("mask_fields", "seg_fields"):
        if results.get(key):
            raise NotImplementedError(
                f"{transform} got {key}={results[key]}, but it transforms boxes only (as in "
                f"MMDetection v2); remove it from a mask/segmentation pipeline or load "
                f"annotations without with_mask/with_seg"
            )


def img_keys(results: dict) -> list[str]:
    """The image keys a transform acts on (``img_fields``, or ``['img']``)."""
    return results.get("img_fields", ["img"])
