"""DETR, Deformable DETR and Sparse R-CNN configs build with MMDetection 2.28.2's exact
state_dict keys and shapes (manifest recorded from MMDetection itself:
``tests/data/mmdet_layouts/query_based.json.gz``, made by ``make_manifests.py query_based
'detr/*.py' 'deformable_detr/*.py' 'sparse_rcnn/*.py'``)."""

import pytest

from tests.models.layout_utils import assert_same_layout, build_config_model, load_manifests

# MMDetection's DETR configs use mmcv's deprecated arguments (mmcv warns, and so do we)
pytestmark = [pytest.mark.filterwarnings("ignore:The arguments `:DeprecationWarning"),
              pytest.mark.filterwarnings("ignore:The argument `dropout`:DeprecationWarning")]

MANIFEST = load_manifests("query_based")


def test_manifest_covers_the_three_folders():
    folders = {rel.split("/")[0] for rel in MANIFEST}
    assert folders == {"detr", "deformable_detr", "sparse_rcnn"}
    assert len(MANIFEST) == 9
    assert not [rel for rel, entry in MANIFEST.items() if "error" in entry]


@pytest.mark.parametrize("rel", sorted(MANIFEST))
def test_state_dict_layout_equals_mmdetection(rel):
    assert_same_layout(build_config_model(rel), MANIFEST[rel], rel)
