"""Guided Anchoring (and Fast R-CNN) models built from our configs have MMDetection 2.28.2's
state_dict layout.

``tests/data/mmdet_layouts/guided_anchoring.json.gz`` and ``fast_rcnn.json.gz`` were recorded
with real MMDetection (``make_manifests.py guided_anchoring 'guided_anchoring/*.py'`` and
``make_manifests.py fast_rcnn 'fast_rcnn/*.py'``): every config of MMDetection's
``configs/guided_anchoring/`` and ``configs/fast_rcnn/``.
"""

import pytest

from tests.models.layout_utils import assert_same_layout, build_config_model, load_manifests

MANIFEST = load_manifests("guided_anchoring")
FAST_RCNN = load_manifests("fast_rcnn")


def test_manifests_cover_the_folders():
    assert len(MANIFEST) == 17 and all(rel.startswith("guided_anchoring/") for rel in MANIFEST)
    assert len(FAST_RCNN) == 6 and all(rel.startswith("fast_rcnn/") for rel in FAST_RCNN)
    # MMDetection built them all
    assert all("keys" in entry for entry in [*MANIFEST.values(), *FAST_RCNN.values()])


@pytest.mark.parametrize("rel", sorted(MANIFEST) + sorted(FAST_RCNN))
def test_state_dict_layout_equals_mmdetection(rel):
    manifest = MANIFEST if rel.startswith("guided_anchoring/") else FAST_RCNN
    assert_same_layout(build_config_model(rel), manifest[rel], rel)
