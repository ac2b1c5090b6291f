"""User-facing entry points: load configs, build and run detectors."""

from .config import load_config
from .inference import inference_detector, init_detector, show_result

__all__ = ["inference_detector", "init_detector", "load_config", "show_result"]
