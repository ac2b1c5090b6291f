"""Instance segmentation configs build with MMDetection 2.28.2's exact state_dict layout.

The manifest ``tests/data/mmdet_layouts/mask.json.gz`` was recorded with real MMDetection
(``make_manifests.py mask 'mask_rcnn/*.py' 'htc/*.py' 'ms_rcnn/*.py'
'cascade_rcnn/cascade_mask*.py'``). Configs whose model part belongs to another open issue
are listed in ``PENDING`` with the error they raise today.
"""

import pytest

from tests.models.layout_utils import assert_same_layout, build_config_model, load_manifests

MANIFEST = load_manifests("mask")
# config -> (reason, expected error type, text in its message)
PENDING = {
    "htc/htc_x101_64x4d_fpn_dconv_c3-c5_mstrain_400_1400_16x1_20e_coco.py": (
        "deformable convolution (DCN) in the backbone is another issue's",
        NotImplementedError, "deformable convolution"),
}

EXPECTED_ERRORS = (ValueError, TypeError, KeyError, IndexError, NotImplementedError,
                   AssertionError)


@pytest.mark.parametrize("rel", sorted(MANIFEST))
def test_state_dict_layout_equals_mmdetection(rel):
    expected = MANIFEST[rel]
    if rel in PENDING:
        _, error, text = PENDING[rel]
        with pytest.raises(error, match=text):
            build_config_model(rel)
        return
    if "error" in expected:
        with pytest.raises(EXPECTED_ERRORS):
            build_config_model(rel)
        return
    assert_same_layout(build_config_model(rel), expected, rel)


def test_manifest_covers_the_mask_folders():
    folders = {rel.split("/")[0] for rel in MANIFEST}
    assert folders == {"mask_rcnn", "htc", "ms_rcnn", "cascade_rcnn"}
    assert len(MANIFEST) == 59  # 27 mask_rcnn, 7 htc, 8 ms_rcnn, 17 cascade mask
    assert set(PENDING) <= set(MANIFEST)
