"""SABL models built from our configs have MMDetection 2.28.2's state_dict layout.

``tests/data/mmdet_layouts/sabl.json.gz`` was recorded with real MMDetection
(``make_manifests.py sabl 'sabl/*.py'``): every config of MMDetection's ``configs/sabl/``
(RetinaNet, Faster R-CNN and Cascade R-CNN, ResNet-50/101, with and without GroupNorm).
"""

import pytest

from tests.models.layout_utils import assert_same_layout, build_config_model, load_manifests

MANIFEST = load_manifests("sabl")
PENDING: dict[str, str] = {}  # every config builds


def test_manifest_covers_the_folder():
    assert len(MANIFEST) == 10 and all(rel.startswith("sabl/") for rel in MANIFEST)
    assert all("keys" in entry for entry in MANIFEST.values())  # MMDetection built them all


@pytest.mark.parametrize("rel", sorted(set(MANIFEST) - set(PENDING)))
def test_state_dict_layout_equals_mmdetection(rel):
    assert_same_layout(build_config_model(rel), MANIFEST[rel], rel)
