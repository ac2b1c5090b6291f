"""``${a.b}`` references between config values (beyond mmcv), resolved after merging.

A string that is exactly ``${a.b}`` takes the referenced value itself (any type); a string
that contains references gets them formatted in:

>>> resolve_references({'root': 'data/', 'ann': '${root}train.json', 'n': 3, 'm': '${n}'})
{'root': 'data/', 'ann': 'data/train.json', 'n': 3, 'm': 3}
"""

from __future__ import annotations

import copy
import re
from typing import Any

_REF = re.compile(r"\$\{([A-Za-z_][\w\.]*)\}")


def _get(tree: dict, dotted: str) -> Any:
    node: Any = tree
    for part in dotted.split("."):
        if isinstance(node, (list, tuple)) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise KeyError(f"config reference '${{{dotted}}}' names no value ('{part}' is missing)")
    return node


def resolve_references(cfg: dict) -> dict:
    """Return ``cfg`` with every ``${a.b}`` reference replaced; cycles are an error."""

    def resolve(value: Any, stack: tuple[str, ...]) -> Any:
        if isinstance(value, str) and "${" in value:
            whole = _REF.fullmatch(value)
            if whole:
                return lookup(whole.group(1), stack)
            return _REF.sub(lambda m: str(lookup(m.group(1), stack)), value)
        if isinstance(value, dict):
            return {k: resolve(v, stack) for k, v in value.items()}
        if type(value) in (list, tuple):
            return type(value)(resolve(v, stack) for v in value)
        return value

    def lookup(dotted: str, stack: tuple[str, ...]) -> Any:
        if dotted in stack:
            raise ValueError("config references form a cycle: " + " -> ".join((*stack, dotted)))
        return copy.deepcopy(resolve(_get(cfg, dotted), (*stack, dotted)))

    if not _contains_reference(cfg):
        return cfg
    return resolve(cfg, ())


def _contains_reference(value: Any) -> bool:
    if isinstance(value, str):
        return "${" in value
    if isinstance(value, dict):
        return any(_contains_reference(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_contains_reference(v) for v in value)
    return False
