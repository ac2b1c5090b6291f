"""Load a config the way every tool does: file, ``--cfg-options``, then validation."""

from __future__ import annotations

import importlib
import os
from typing import Iterable

from ..config import Config, parse_cfg_options
from ..utils.config_check import check_config

# Packages whose import registers components; imported when present so that validation knows
# every registered class.
_REGISTERING_PACKAGES = ("detbox.models", "detbox.datasets", "detbox.engine")


def import_registering_packages() -> None:
    """Import the detbox packages that fill the registries (those that exist)."""
    for name in _REGISTERING_PACKAGES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name != name:
                raise


def load_config(path: str | os.PathLike, cfg_options: Iterable[str] | dict | None = None,
                validate: bool = True) -> Config:
    """Load ``path``, apply ``cfg_options`` (``['a.b=1']`` or ``{'a.b': 1}``), validate.

    Raises:
        ConfigValidationError: a typo or unknown argument, with the key path and the fix.
    """
    import_registering_packages()
    cfg = Config.fromfile(path)
    if cfg_options:
        options = cfg_options if isinstance(cfg_options, dict) else parse_cfg_options(cfg_options)
        cfg.merge_from_dict(options)
    if validate:
        check_config(cfg)
    return cfg
