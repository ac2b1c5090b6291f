"""Render a config as Python source that reloads to an equal config.

Dicts whose keys are all identifiers print as ``dict(k=v)``; others as ``{'k': v}``.
Short values stay on one line; longer ones break one item a line, indented by 4.

>>> print(format_config({'model': {'type': 'FPN', 'in_channels': [256, 512]}, 'lr': 0.02}))
model = dict(type='FPN', in_channels=[256, 512])
lr = 0.02
<BLANKLINE>
"""

from __future__ import annotations

import keyword
import math
from typing import Any

WIDTH = 100


def _is_name(key: Any) -> bool:
    return isinstance(key, str) and key.isidentifier() and not keyword.iskeyword(key)


def _scalar(value: Any) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return f"float('{value}')"
    return repr(value)


def _parts(value: Any) -> tuple[str, str, list[tuple[str, Any]]] | None:
    """Opening, closing and (prefix, item) pairs of a container; ``None`` for a scalar."""
    if isinstance(value, dict):
        if all(_is_name(k) for k in value):
            return "dict(", ")", [(f"{k}=", v) for k, v in value.items()]
        return "{", "}", [(f"{k!r}: ", v) for k, v in value.items()]
    if type(value) is list:
        return "[", "]", [("", v) for v in value]
    if type(value) is tuple:
        close = ",)" if len(value) == 1 else ")"
        return "(", close, [("", v) for v in value]
    return None


def format_value(value: Any, indent: int = 0, column: int = 0) -> str:
    """Python source for ``value``, fitting in ``WIDTH`` columns where it can.

    Args:
        value: the value to render.
        indent: indentation of the line the value starts on.
        column: the column the value starts at (decides whether it fits on the line).
    """
    parts = _parts(value)
    if parts is None:
        return _scalar(value)
    opening, closing, items = parts
    flat = opening + ", ".join(p + format_value(v) for p, v in items) + closing
    if column + len(flat) < WIDTH or not items:  # one column left for a trailing comma
        return flat
    pad = " " * (indent + 4)
    lines = [pad + p + format_value(v, indent + 4, indent + 4 + len(p)) + "," for p, v in items]
    return opening + "\n" + "\n".join(lines) + "\n" + " " * indent + closing.lstrip(",")


def format_config(cfg: dict) -> str:
    """Module source with one ``key = value`` statement per top-level key."""
    lines = []
    for key, value in cfg.items():
        if _is_name(key):
            lines.append(f"{key} = {format_value(value, 0, len(key) + 3)}")
        else:  # only reachable from yaml/json sources; still valid Python
            lines.append(f"globals()[{key!r}] = {format_value(value, 0, len(key) + 14)}")
    return "\n".join(lines) + "\n"
