"""MMDetection 2.28.2's configs/convnext/ build with MMDetection's state_dict.

The manifest (tests/data/mmdet_layouts/convnext.json.gz) was recorded with real MMDetection and
MMClassification 0.25 (make_manifests.py there). Every ConvNeXt config of MMDetection is a
Mask R-CNN or Cascade Mask R-CNN; the whole detectors are compared, mask heads included.
"""

import pytest

from tests.models.layout_utils import assert_same_layout, build_config_model, load_manifests

MANIFEST = load_manifests("convnext")


def test_manifest_covers_the_folder():
    assert len(MANIFEST) == 3
    assert all("keys" in entry for entry in MANIFEST.values())  # MMDetection builds them all


@pytest.mark.parametrize("rel", sorted(MANIFEST))
def test_state_dict_layout_equals_mmdetection(rel):
    assert_same_layout(build_config_model(rel), MANIFEST[rel], rel)
