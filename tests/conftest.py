"""Shared fixtures: paths of the repository and its test data."""

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"

# Fixture configs and modules are data, not tests (some are broken on purpose).
collect_ignore_glob = ["data/*"]


@pytest.fixture
def config_dir() -> Path:
    """Folder of the fixture config files, one sub-folder per rule."""
    return DATA / "configs"
