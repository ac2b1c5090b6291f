"""Utilities shared by the engine, the tools and the APIs."""

from .config_check import check_config

__all__ = ["check_config"]
