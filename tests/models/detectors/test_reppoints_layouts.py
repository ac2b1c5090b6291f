"""RepPoints models built from our configs have MMDetection 2.28.2's state_dict layout.

``tests/data/mmdet_layouts/reppoints.json.gz`` was recorded with real MMDetection
(``make_manifests.py reppoints 'reppoints/*.py'``): every config of MMDetection's
``configs/reppoints/``, the two ``*_dconv_c3-c5_*`` ones with deformable convolutions in the
ResNet / ResNeXt backbone (``dcn=dict(type='DCN')``) included.
"""

import pytest

from tests.models.layout_utils import assert_same_layout, build_config_model, load_manifests

MANIFEST = load_manifests("reppoints")


def test_manifest_covers_the_folder():
    assert len(MANIFEST) == 10 and all(rel.startswith("reppoints/") for rel in MANIFEST)
    assert all("keys" in entry for entry in MANIFEST.values())  # MMDetection built them all


@pytest.mark.parametrize("rel", sorted(MANIFEST))
def test_state_dict_layout_equals_mmdetection(rel):
    assert_same_layout(build_config_model(rel), MANIFEST[rel], rel)
