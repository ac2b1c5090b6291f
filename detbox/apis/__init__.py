"""User-facing entry points: load configs, build, train, test and run detectors.

Names load on first use (``from detbox.apis import train_detector``), so that a tool's
``--help`` or the log analysis does not import torch models and datasets.
"""

import importlib
from typing import Any

_EXPORTS = {
    "load_config": ".config",
    "inference_detector": ".inference",
    "init_detector": ".inference",
    "show_result": ".inference",
    "show_result_pyplot": ".inference",
    "train_detector": ".train",
    "auto_scale_lr": ".train",
    "single_gpu_test": "..evaluation",
    "multi_gpu_test": "..evaluation",
    "init_random_seed": "..engine",
    "set_random_seed": "..engine",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
