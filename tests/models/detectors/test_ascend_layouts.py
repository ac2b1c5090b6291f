"""The Ascend RetinaNet config builds with real MMDetection 2.28.2's state_dict layout (the
Ascend SSD300 is checked with the other SSD configs in ``test_ssd_layouts.py``).

The manifest ``tests/data/mmdet_layouts/ascend.json.gz`` was recorded by MMDetection itself
(``tests/data/mmdet_layouts/make_manifests.py ascend 'retinanet/ascend_*.py'``).
"""

import pytest

from tests.conftest import REPO
from tests.models.layout_utils import assert_same_layout, build_config_model, load_manifests

MANIFEST = load_manifests("ascend")


def test_manifest_covers_the_ascend_retinanet_configs():
    ours = {p.relative_to(REPO / "configs").as_posix()
            for p in (REPO / "configs" / "retinanet").glob("ascend_*.py")}
    assert set(MANIFEST) == ours == {"retinanet/ascend_retinanet_r18_fpn_1x8_1x_coco.py"}
    assert all("keys" in entry for entry in MANIFEST.values())


@pytest.mark.parametrize("rel", sorted(MANIFEST))
def test_state_dict_layout_equals_mmdetection(rel):
    model = build_config_model(rel)
    assert type(model.bbox_head).__name__ == "AscendRetinaHead"
    assert_same_layout(model, MANIFEST[rel], rel)
