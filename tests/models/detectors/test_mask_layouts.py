"""Instance segmentation configs build with MMDetection 2.28.2's exact state_dict layout.

The manifest ``tests/data/mmdet_layouts/mask.json.gz`` was recorded with real MMDetection
(``make_manifests.py mask 'mask_rcnn/*.py' 'htc/*.py' 'ms_rcnn/*.py'
'cascade_rcnn/cascade_mask*.py'``), HTC with a DCN ResNeXt backbone included. Configs
MMDetection itself cannot build (``"error"``) fail here too.
"""

import pytest

from tests.models.layout_utils import assert_same_layout, build_config_model, load_manifests

MANIFEST = load_manifests("mask")

EXPECTED_ERRORS = (ValueError, TypeError, KeyError, IndexError, NotImplementedError,
                   AssertionError)


@pytest.mark.parametrize("rel", sorted(MANIFEST))
def test_state_dict_layout_equals_mmdetection(rel):
    expected = MANIFEST[rel]
    if "error" in expected:
        with pytest.raises(EXPECTED_ERRORS):
            build_config_model(rel)
        return
    assert_same_layout(build_config_model(rel), expected, rel)


def test_manifest_covers_the_mask_folders():
    folders = {rel.split("/")[0] for rel in MANIFEST}
    assert folders == {"mask_rcnn", "htc", "ms_rcnn", "cascade_rcnn"}
    assert len(MANIFEST) == 59  # 27 mask_rcnn, 7 htc, 8 ms_rcnn, 17 cascade mask
