"""``num_classes`` of the model's heads follows the dataset's ``classes`` (beyond MMDetection v2).

A personal dataset config sets ``classes = ('a', 'b', 'c', 'd')`` and inherits a model whose
heads say ``num_classes=80`` (Cascade R-CNN has three bbox heads). MMDetection stops with a
mismatch; :func:`sync_num_classes` instead sets every head's ``num_classes`` to
``len(classes)`` in the config, before the model is built, and says so once::

    num_classes 80 -> 4 from data.train.classes (roi_head.bbox_head.0, .1, .2)

``data.train``, ``data.val`` and ``data.test`` must agree on ``classes`` when they give them.
Heads whose ``num_classes`` is not the dataset's (RPN heads, semantic segmentation heads, VGG
as a classifier) keep theirs. ``auto_num_classes = False`` at the top level of the config
turns this off (then the mismatch error of ``NumClassCheckHook`` stands).

>>> from detbox.config import Config
>>> cfg = Config(dict(model=dict(type='RetinaNet', bbox_head=dict(num_classes=80)),
...                   data=dict(train=dict(classes=('cat', 'dog')))))
>>> sync_num_classes(cfg)
'num_classes 80 -> 2 from data.train.classes (bbox_head)'
>>> cfg.model.bbox_head.num_classes
2
"""

from __future__ import annotations

import os
from typing import Any

from ..config.validate import ConfigValidationError

__all__ = ["sync_num_classes", "config_classes", "EXEMPT_HEADS"]

# Component types whose ``num_classes`` is not the number of dataset classes (the same list as
# NumClassCheckHook's).
EXEMPT_HEADS = {"RPNHead", "GARPNHead", "CascadeRPNHead", "StageCascadeRPNHead", "VGG",
                "FusedSemanticHead", "GlobalContextHead"}


def _names(classes: Any) -> list[str] | None:
    """Class names of a ``classes`` value (a tuple/list, or a text file with one a line)."""
    if isinstance(classes, (str, os.PathLike)):
        path = os.fspath(classes)
        if not os.path.isfile(path):
            return None  # the dataset reports it when built
        with open(path, encoding="utf-8") as f:
            return [line.strip() for line in f if line.strip()]
    if isinstance(classes, (list, tuple)):
        return list(classes)
    return None


def _classes_of(node: Any, path: str) -> tuple[list[str], str] | None:
    """The first ``classes`` in a dataset config (looking inside wrappers), with its path."""
    if isinstance(node, (list, tuple)):
        for i, item in enumerate(node):
            found = _classes_of(item, f"{path}.{i}")
            if found:
                return found
        return None
    if not isinstance(node, dict):
        return None
    if node.get("classes") is not None:
        names = _names(node["classes"])
        return (names, f"{path}.classes") if names is not None else None
    for key in ("dataset", "datasets"):
        if key in node:
            found = _classes_of(node[key], f"{path}.{key}")
            if found:
                return found
    return None


def config_classes(cfg: Any) -> tuple[list[str], str] | None:
    """The class names the dataset configs give, and where (``data.train.classes``).

    Raises:
        ConfigValidationError: train, val and test give different classes.
    """
    data = cfg.get("data") or {}
    found = [f for f in (_classes_of(data.get(s), f"data.{s}") for s in ("train", "val", "test"))
             if f]
    if not found:
        return None
    names, where = found[0]
    for other, other_where in found[1:]:
        if list(other) != list(names):
            raise ConfigValidationError(
                f"{where} ({len(names)}: {', '.join(map(str, names))}) and {other_where} "
                f"({len(other)}: {', '.join(map(str, other))}) differ; train, val and test must "
                f"name the same classes in the same order")
    return names, where


def _heads(node: Any, path: str, out: list[tuple[str, dict]]) -> None:
    if isinstance(node, dict):
        if node.get("type") in EXEMPT_HEADS or "rpn" in path.rsplit(".", 1)[-1]:
            return
        if isinstance(node.get("num_classes"), int) and not isinstance(node["num_classes"], bool):
            out.append((path, node))
        for key, value in node.items():
            if key not in ("train_cfg", "test_cfg", "init_cfg"):
                _heads(value, f"{path}.{key}" if path else str(key), out)
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            _heads(value, f"{path}.{i}", out)


def _short(paths: list[str]) -> str:
    """``a.b.0, .1, .2`` for siblings; full paths otherwise."""
    parts, previous = [], None
    for path in paths:
        head, _, leaf = path.rpartition(".")
        if previous is not None and head and head == previous and leaf.isdigit():
            parts.append(f".{leaf}")
        else:
            parts.append(path)
        previous = head if leaf.isdigit() else None
    return ", ".join(parts)


def sync_num_classes(cfg: Any) -> str | None:
    """Set ``num_classes`` of the heads in ``cfg.model`` to ``len(classes)``, in place.

    The caller logs the message (once, where its log goes).

    Returns:
        The message to log (``num_classes 80 -> 4 from data.train.classes (bbox_head)``), or
        ``None`` when nothing changed (no ``classes``, already equal, ``auto_num_classes=False``).

    Raises:
        ConfigValidationError: train, val and test disagree on ``classes``.
    """
    found = config_classes(cfg)
    if found is None or cfg.get("auto_num_classes", True) is False or "model" not in cfg:
        return None
    names, where = found
    heads: list[tuple[str, dict]] = []
    _heads(cfg.model, "", heads)
    changed = [(path, node) for path, node in heads if node["num_classes"] != len(names)]
    if not changed:
        return None
    old = sorted({node["num_classes"] for _, node in changed})
    for _, node in changed:
        node["num_classes"] = len(names)
    message = (f"num_classes {'/'.join(map(str, old))} -> {len(names)} from {where} "
               f"({_short([path for path, _ in changed])})")
    return message
