"""User-facing entry points: load configs; later build, train and run detectors."""

from .config import load_config

__all__ = ["load_config"]
