"""Utilities shared by the models, the engine, the tools and the APIs."""

from .checkpoint import (
    LoadReport,
    UnknownCheckpointError,
    load_checkpoint,
    load_state_dict,
    resolve_checkpoint_path,
)
from .config_check import check_config

__all__ = [
    "LoadReport",
    "UnknownCheckpointError",
    "check_config",
    "load_checkpoint",
    "load_state_dict",
    "resolve_checkpoint_path",
]
