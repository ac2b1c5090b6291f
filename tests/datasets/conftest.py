"""Fixtures of the dataset tests: the BCCD data set and a tiny hand-made COCO file."""

from pathlib import Path

import pytest

from tests.datasets.dataset_fixtures import BCCD_ROOT, write_coco


@pytest.fixture
def tiny_coco(tmp_path) -> Path:
    """Path of the tiny COCO json."""
    return write_coco(tmp_path / "tiny.json")


@pytest.fixture(scope="session")
def bccd_root() -> Path:
    """The BCCD folder (Annotations/, JPEGImages/, ImageSets/Main/)."""
    if not (BCCD_ROOT / "Annotations").is_dir():
        pytest.fail(f"BCCD data set not found at {BCCD_ROOT.resolve()} (expected beside the "
                    f"repository in ../shared/data/bccd)")
    return BCCD_ROOT.resolve()
