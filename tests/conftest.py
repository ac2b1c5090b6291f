"""Shared fixtures: paths of the repository and its test data."""

import os
from pathlib import Path

import pytest

# The test suite never reaches the network: missing pretrained weights are an error (as on
# the offline CI machines), not a download. Tests of downloading unset it themselves. Set in
# the environment so that tools run as subprocesses inherit it.
os.environ.setdefault("DETBOX_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"

# Fixture configs and modules are data, not tests (some are broken on purpose).
collect_ignore_glob = ["data/*"]


@pytest.fixture
def config_dir() -> Path:
    """Folder of the fixture config files, one sub-folder per rule."""
    return DATA / "configs"
