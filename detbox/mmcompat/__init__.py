"""Run code written against ``mmdet`` / ``mmcv`` (MMDetection 2.x, mmcv 1.x) on detbox.

After :func:`enable`, ``import mmdet.X`` gives ``detbox.X`` and ``import mmcv.X`` gives the
mmcv-named facade in :mod:`detbox.mmcompat.mmcv`. The switch users flip is
``import detbox.compat`` (or ``python -m detbox.compat script.py ...``); detbox itself enables
it only while it imports code that a config names in ``custom_imports`` and while it imports
its own model packages (so a module written for MMDetection and dropped into
``detbox/models/necks/`` works, as the seed's BiFPN does in ``mmdet/models/necks/``).

It never shadows a real installation: with an importable ``mmcv`` or ``mmdet`` on the path,
:func:`enable` raises :class:`CompatImportError` saying so, and while it is enabled a name
detbox does not have fails with an error naming the closest detbox feature.
"""

from __future__ import annotations

import contextlib
import importlib.machinery
import sys
from typing import Iterator

from .finder import ALIASES, CompatFinder, CompatImportError

__all__ = ["enable", "disable", "is_enabled", "enabled_while", "CompatImportError", "ALIASES"]

_FINDER = CompatFinder()


def _real_installation(name: str) -> str | None:
    """Where a real (non-detbox) top-level package ``name`` would be imported from."""
    module = sys.modules.get(name)
    if module is not None and not getattr(module, "__detbox_alias__", False):
        return getattr(module, "__file__", None) or repr(module)
    spec = importlib.machinery.PathFinder.find_spec(name)
    if spec is None:
        return None
    return spec.origin or ", ".join(spec.submodule_search_locations or []) or name


def is_enabled() -> bool:
    """Whether ``mmdet``/``mmcv`` imports currently resolve to detbox."""
    return _FINDER in sys.meta_path


def enable() -> None:
    """Make ``mmdet`` and ``mmcv`` imports resolve to detbox (idempotent).

    Raises:
        CompatImportError: a real ``mmcv`` or ``mmdet`` is installed; detbox never hides it.
    """
    if is_enabled():
        return
    for name in ALIASES:
        where = _real_installation(name)
        if where is not None:
            raise CompatImportError(
                f"a real '{name}' is installed ({where}); detbox's compatibility switch never "
                f"shadows it. Use that installation, or uninstall it (pip uninstall {name} "
                f"{'mmcv-full' if name == 'mmcv' else ''}) to run this code on detbox.")
    sys.meta_path.append(_FINDER)  # last: only names no other finder provides


def disable() -> None:
    """Undo :func:`enable`; modules already imported through it stay usable."""
    while _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)
    for name in [n for n, m in sys.modules.items() if getattr(m, "__detbox_alias__", False)]:
        del sys.modules[name]


@contextlib.contextmanager
def enabled_while() -> Iterator[bool]:
    """Enable the switch for the duration of a block (detbox's ``custom_imports``), unless a
    real mmcv/mmdet is installed, in which case imports go to it. Yields whether it is on."""
    if is_enabled():
        yield True
        return
    try:
        enable()
    except CompatImportError:
        yield False
        return
    before = {n for n, m in sys.modules.items() if getattr(m, "__detbox_alias__", False)}
    try:
        yield True
    finally:
        # Off again: later `import mmcv` elsewhere must not find detbox's facade. The modules
        # imported in the block keep the objects they bound.
        sys.meta_path.remove(_FINDER)
        for name in [n for n, m in sys.modules.items()
                     if getattr(m, "__detbox_alias__", False) and n not in before]:
            del sys.modules[name]
