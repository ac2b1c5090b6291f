"""Shared lookup of a layer ``type`` in the flat ``LAYERS`` registry, with a clear miss."""

from __future__ import annotations

from typing import Any, Iterable

from detbox.registry import LAYERS, UnknownTypeError
from detbox.suggest import close_matches


def layer_class(cfg: Any, kind: str, known: Iterable[str]) -> tuple[Any, dict]:
    """The class of a layer config and the remaining keyword arguments.

    Args:
        cfg: ``dict(type=..., **kwargs)``; ``type`` is a name registered in ``LAYERS`` or a class.
        kind: what is being built, for errors (``'norm'``).
        known: the built-in names of this kind, listed when ``type`` is unknown.

    Returns:
        ``(cls, kwargs)`` where ``kwargs`` is a shallow copy of ``cfg`` without ``type``.
    """
    if not isinstance(cfg, dict):
        raise TypeError(f"a {kind} layer config must be a dict, got {type(cfg).__name__}: {cfg!r}")
    if "type" not in cfg:
        raise KeyError(f"a {kind} layer config must have the key 'type', got {cfg}")
    args = dict(cfg)
    layer_type = args.pop("type")
    if not isinstance(layer_type, str):
        if callable(layer_type):
            return layer_type, args
        raise TypeError(f"{kind} layer type must be a str or a class, got {layer_type!r}")
    if layer_type not in LAYERS:
        known = sorted(known)
        close = ([k for k in known if k.lower() == layer_type.lower()]
                 or close_matches(layer_type, known)
                 or close_matches(layer_type, LAYERS.module_dict))
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else "."
        raise UnknownTypeError(f"unknown {kind} layer type '{layer_type}'{hint} Built-in {kind} "
                               f"types: {', '.join(known)}")
    return LAYERS.get(layer_type), args
