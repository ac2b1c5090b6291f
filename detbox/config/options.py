"""``--cfg-options key.path=value`` parsing, with mmcv 1.x's value rules.

>>> parse_value('1'), parse_value('0.5'), parse_value('True'), parse_value('None')
(1, 0.5, True, None)
>>> parse_value('[1,2,(3,4)]')
[1, 2, (3, 4)]
>>> parse_value('a,b')
['a', 'b']
>>> parse_cfg_options(['model.backbone.depth=101', 'data.train.pipeline.0.type=X'])
{'model.backbone.depth': 101, 'data.train.pipeline.0.type': 'X'}
"""

from __future__ import annotations

import argparse
from typing import Any, Iterable


def parse_scalar(text: str) -> Any:
    """``int``, then ``float``, then ``True``/``False`` (any case), then ``None``, else the text."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    if text == "None":
        return None
    return text


def _split_top_level(text: str) -> list[str]:
    """Split at commas that are not inside brackets: ``'a,(b,c)'`` -> ``['a', '(b,c)']``."""
    if text.count("(") != text.count(")") or text.count("[") != text.count("]"):
        raise ValueError(f"Imbalanced brackets exist in {text}")
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def parse_value(text: str) -> Any:
    """Parse one option value: scalars, ``a,b`` and ``[a,b]`` lists, ``(a,b)`` tuples, nested."""
    text = text.strip("'\"").replace(" ", "")
    is_tuple = False
    if text.startswith("(") and text.endswith(")"):
        is_tuple, text = True, text[1:-1]
    elif text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    elif "," not in text:
        return parse_scalar(text)
    values = []
    while text:
        # mmcv takes the text up to the next top-level comma, then continues after it.
        head = _split_top_level(text)[0]
        values.append(parse_value(head))
        text = text[len(head) + 1 :]
    return tuple(values) if is_tuple else values


def parse_cfg_options(items: Iterable[str]) -> dict[str, Any]:
    """Turn ``['a.b=1', ...]`` into ``{'a.b': 1, ...}``; a missing ``=`` is an error."""
    options: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"--cfg-options expects key=value pairs, got {item!r}")
        key, value = item.split("=", 1)
        options[key] = parse_value(value)
    return options


class DictAction(argparse.Action):
    """argparse action for ``--cfg-options k1=v1 k2=v2`` (``nargs='+'``)."""

    def __call__(self, parser, namespace, values, option_string=None):  # noqa: D102
        try:
            options = parse_cfg_options(values)
        except ValueError as err:
            parser.error(str(err))
        setattr(namespace, self.dest, options)
