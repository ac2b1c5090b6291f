"""``ConfigDict``: a dict whose keys read as attributes.

Nested dicts (also inside lists and tuples) become ``ConfigDict`` when stored, so
``cfg.model.backbone.depth`` works at any depth. Unlike ``addict``, reading a missing key
never creates it: it raises ``AttributeError`` (attribute access) or ``KeyError`` (item
access) naming the key and the closest existing keys.

>>> cfg = ConfigDict(model=dict(backbone=dict(depth=50)))
>>> cfg.model.backbone.depth
50
>>> cfg.model.neck
Traceback (most recent call last):
...
AttributeError: config key 'neck' is missing (keys here: backbone)
"""

from __future__ import annotations

import copy
from typing import Any, Iterable

from ..suggest import close_matches


def to_config_value(value: Any) -> Any:
    """Convert plain dicts (also nested in lists and tuples) into ``ConfigDict``."""
    if isinstance(value, ConfigDict):
        return value
    if isinstance(value, dict):
        return ConfigDict(value)
    if type(value) is list:
        return [to_config_value(v) for v in value]
    if type(value) is tuple:
        return tuple(to_config_value(v) for v in value)
    return value


def to_plain(value: Any) -> Any:
    """Recursively turn ``ConfigDict`` values back into plain ``dict``."""
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if type(value) is list:
        return [to_plain(v) for v in value]
    if type(value) is tuple:
        return tuple(to_plain(v) for v in value)
    return value


def missing_key_message(key: str, keys: Iterable[Any]) -> str:
    """A message for a missing ``key`` that names close matches among ``keys``."""
    names = [str(k) for k in keys]
    close = close_matches(str(key), names)
    if close:
        return f"config key '{key}' is missing; did you mean {', '.join(repr(c) for c in close)}?"
    shown = ", ".join(names[:20]) + (", ..." if len(names) > 20 else "")
    return f"config key '{key}' is missing (keys here: {shown or 'none'})"


class ConfigDict(dict):
    """A ``dict`` with attribute access whose nested dicts are ``ConfigDict`` too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(key, to_config_value(value))

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            if name.startswith("__") and name.endswith("__"):
                raise AttributeError(name) from None
            raise AttributeError(missing_key_message(name, self.keys())) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self[name]
        except KeyError:
            raise AttributeError(missing_key_message(name, self.keys())) from None

    def update(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def setdefault(self, key: Any, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def copy(self) -> ConfigDict:
        """A shallow copy that stays a ``ConfigDict``."""
        return ConfigDict(dict.items(self))

    def __copy__(self) -> ConfigDict:
        return self.copy()

    def __deepcopy__(self, memo: dict) -> ConfigDict:
        out = ConfigDict()
        memo[id(self)] = out
        for key, value in self.items():
            dict.__setitem__(out, copy.deepcopy(key, memo), copy.deepcopy(value, memo))
        return out

    def __reduce__(self):
        return (ConfigDict, (to_plain(self),))

    def to_dict(self) -> dict:
        """A plain-``dict`` copy (nested values converted too)."""
        return to_plain(self)
