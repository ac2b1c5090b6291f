"""``custom_imports``: import the user's modules named in a config so they register."""

from __future__ import annotations

import importlib
import logging
import os
import sys
import warnings
from types import ModuleType

from ..mmcompat import enabled_while

logger = logging.getLogger(__name__)

# Modules that MMDetection configs import for models detbox implements itself: importing the
# detbox module registers the same type names (``mmcls.ConvNeXt``), so MMClassification is
# neither needed nor imported. Named by string: this bottom layer imports no detbox package.
BUILTIN_SUBSTITUTES: dict[str, str] = {
    "mmcls.models": "detbox.models",
    "mmcls.models.backbones": "detbox.models",
}


def import_modules_from_strings(imports: str | list[str] | None,
                                allow_failed_imports: bool = False,
                                config_dir: str | None = None) -> ModuleType | list | None:
    """Import modules by dotted name (``custom_imports=dict(imports=[...])`` in a config).

    Names in :data:`BUILTIN_SUBSTITUTES` (``mmcls.models``) import detbox's own module instead,
    with a log line saying so.

    Besides ``sys.path``, the current directory and the config file's directory are searched,
    so a user's ``my_modules/my_neck.py`` next to their work is found when they run
    ``python tools/train.py``.

    Raises:
        TypeError: ``imports`` is neither a string nor a list of strings.
        ImportError: a module cannot be imported and ``allow_failed_imports`` is False.
    """
    if not imports:
        return None
    single = isinstance(imports, str)
    names = [imports] if single else imports
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise TypeError(f"custom_imports.imports must be a str or a list of str, got {imports!r}")
    extra = [p for p in (os.getcwd(), config_dir) if p and p not in sys.path]
    sys.path.extend(extra)
    modules = []
    try:
        for name in names:
            substitute = BUILTIN_SUBSTITUTES.get(name)
            if substitute is not None:
                logger.info("custom_imports: '%s' is provided by detbox's own implementation "
                            "(%s; e.g. mmcls.ConvNeXt), not imported", name, substitute)
                modules.append(importlib.import_module(substitute))
                continue
            try:
                with enabled_while():  # modules written for MMDetection import mmdet / mmcv
                    modules.append(importlib.import_module(name))
            except ImportError as err:
                if not allow_failed_imports:
                    raise ImportError(
                        f"custom_imports: failed to import '{name}' ({err}). Check that it is on "
                        f"PYTHONPATH or in the current directory."
                    ) from err
                warnings.warn(f"{name} failed to import and is ignored.", UserWarning,
                              stacklevel=2)
                modules.append(None)
    finally:
        for path in extra:
            if path in sys.path:
                sys.path.remove(path)
    return modules[0] if single else modules
