"""Every config of ``configs/centripetalnet/`` builds with real MMDetection 2.28.2's
state_dict layout.

The manifest ``tests/data/mmdet_layouts/centripetalnet.json.gz`` was recorded by MMDetection
itself (``tests/data/mmdet_layouts/make_manifests.py centripetalnet 'centripetalnet/*.py'``).
"""

import pytest

from tests.conftest import REPO
from tests.models.layout_utils import assert_same_layout, build_config_model, load_manifests

MANIFEST = load_manifests("centripetalnet")


def test_manifest_covers_the_folder():
    ours = {p.relative_to(REPO / "configs").as_posix()
            for p in (REPO / "configs" / "centripetalnet").glob("centripetalnet_hourglass104_*.py")}
    assert set(MANIFEST) == ours == {
        "centripetalnet/centripetalnet_hourglass104_mstest_16x6_210e_coco.py"}
    assert all("keys" in entry for entry in MANIFEST.values())  # MMDetection builds them all


@pytest.mark.parametrize("rel", sorted(MANIFEST))
def test_state_dict_layout_equals_mmdetection(rel):
    model = build_config_model(rel)
    assert_same_layout(model, MANIFEST[rel], rel)
    assert len(MANIFEST[rel]["keys"]) == 1152
