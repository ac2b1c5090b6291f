"""detbox: config-driven object detection on pure PyTorch."""

__version__ = "0.1.0"
