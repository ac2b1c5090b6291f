"""Data: datasets, pipeline transforms and loading; importing registers them."""

from . import transforms  # noqa: F401
