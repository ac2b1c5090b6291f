"""Every config of ``configs/ssd/`` builds with real MMDetection 2.28.2's state_dict layout.

The manifest ``tests/data/mmdet_layouts/ssd.json.gz`` was recorded by MMDetection itself
(``tests/data/mmdet_layouts/make_manifests.py ssd 'ssd/*.py'``).
"""

import pytest

from tests.conftest import REPO
from tests.models.layout_utils import assert_same_layout, build_config_model, load_manifests

MANIFEST = load_manifests("ssd")


def test_manifest_covers_the_folder():
    ours = {p.relative_to(REPO / "configs").as_posix()
            for p in (REPO / "configs" / "ssd").glob("*.py") if "_tiny_" not in p.name}
    assert set(MANIFEST) == ours
    assert "ssd/ascend_ssd300_coco.py" in ours
    assert all("keys" in entry for entry in MANIFEST.values())  # MMDetection builds them all


@pytest.mark.parametrize("rel", sorted(MANIFEST))
def test_state_dict_layout_equals_mmdetection(rel):
    assert_same_layout(build_config_model(rel), MANIFEST[rel], rel)
