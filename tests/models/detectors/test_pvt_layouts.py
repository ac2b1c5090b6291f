"""Every config of MMDetection 2.28.2's configs/pvt/ builds with MMDetection's exact state_dict.

The manifest (tests/data/mmdet_layouts/pvt.json.gz) was recorded with real MMDetection
(make_manifests.py there); our copies of the configs live in configs/pvt/.
"""

import pytest

from tests.models.layout_utils import assert_same_layout, build_config_model, load_manifests

MANIFEST = load_manifests("pvt")


def test_manifest_covers_the_folder():
    assert len(MANIFEST) == 10
    assert all("keys" in entry for entry in MANIFEST.values())  # MMDetection builds them all


@pytest.mark.parametrize("rel", sorted(MANIFEST))
def test_same_state_dict_as_mmdetection(rel):
    assert_same_layout(build_config_model(rel), MANIFEST[rel], rel)
