"""Utilities shared by the models, the engine, the tools and the APIs.

Names load on first use, so that importing a light helper (``detbox.utils.malloc``) does not
import torch.
"""

import importlib
from typing import Any

_EXPORTS = {
    "LoadReport": ".checkpoint",
    "UnknownCheckpointError": ".checkpoint",
    "load_checkpoint": ".checkpoint",
    "load_state_dict": ".checkpoint",
    "resolve_checkpoint_path": ".checkpoint",
    "check_config": ".config_check",
    "collect_env": "..engine.env",
    "get_root_logger": "..engine.logging",
    "tune_malloc": ".malloc",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
