"""Every config of ``configs/yolo/`` (YOLOv3) builds with real MMDetection 2.28.2's state_dict.

The manifest ``tests/data/mmdet_layouts/yolo.json.gz`` was recorded by MMDetection itself
(``tests/data/mmdet_layouts/make_manifests.py yolo 'yolo/*.py'``).
"""

import pytest

from tests.conftest import REPO
from tests.models.layout_utils import assert_same_layout, build_config_model, load_manifests

MANIFEST = load_manifests("yolo")


def test_manifest_covers_the_folder():
    ours = {p.relative_to(REPO / "configs").as_posix()
            for p in (REPO / "configs" / "yolo").glob("yolov3_*_coco.py")}
    assert set(MANIFEST) == ours
    assert all("keys" in entry for entry in MANIFEST.values())  # MMDetection builds them all


@pytest.mark.parametrize("rel", sorted(MANIFEST))
def test_state_dict_layout_equals_mmdetection(rel):
    assert_same_layout(build_config_model(rel), MANIFEST[rel], rel)
