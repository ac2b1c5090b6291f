"""MMDetection-v2 style configs: loading, merging, ``--cfg-options`` and validation."""

from .config import Config
from .config_dict import ConfigDict
from .imports import import_modules_from_strings
from .merge import merge_into
from .options import DictAction, parse_cfg_options, parse_value

__all__ = [
    "Config",
    "ConfigDict",
    "DictAction",
    "import_modules_from_strings",
    "merge_into",
    "parse_cfg_options",
    "parse_value",
]
