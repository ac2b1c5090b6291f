"""Swin models built from our configs have MMDetection 2.28.2's state_dict layout.

``tests/data/mmdet_layouts/swin.json.gz`` was recorded with real MMDetection
(``make_manifests.py swin 'swin/*.py' 'dyhead/atss_swin*.py'
'tests/data/configs/swin_combos/*.py'``): every config of MMDetection's ``configs/swin/``, the
Swin-L DyHead config, and Swin-T/S/B/L under Faster R-CNN, Cascade R-CNN, RetinaNet, ATSS and
ATSS + DyHead (``tests/data/configs/swin_combos/``, configs of ours; MMDetection's zoo has none).

The Swin Mask R-CNN configs are checked whole (mask heads included) since instance
segmentation landed.
"""

import pytest
import torch

from detbox.config import Config
from detbox.models.builder import build_detector
from tests.conftest import REPO
from tests.models.layout_utils import assert_same_layout, build_config_model, load_manifests

MANIFEST = load_manifests("swin")


def _build(rel: str):
    if rel.startswith("tests/"):
        cfg = Config.fromfile(REPO / rel)
        with torch.device("meta"):
            return build_detector(cfg.model)
    return build_config_model(rel)


def test_manifest_covers_the_families():
    assert sum(rel.startswith("swin/") for rel in MANIFEST) == 5
    assert "dyhead/atss_swin-l-p4-w12_fpn_dyhead_mstrain_2x_coco.py" in MANIFEST
    combos = [rel for rel in MANIFEST if rel.startswith("tests/data/configs/swin_combos/")]
    for model in ("faster_rcnn", "cascade_rcnn", "retinanet", "atss", "atss_dyhead"):
        for size in "tsbl":
            assert any(f"/{model}_swin-{size}_fpn.py" in rel for rel in combos), (model, size)
    assert all("keys" in entry for entry in MANIFEST.values())  # MMDetection built them all


@pytest.mark.parametrize("rel", sorted(MANIFEST))
def test_state_dict_layout_equals_mmdetection(rel):
    assert_same_layout(_build(rel), MANIFEST[rel], rel)


def test_mask_rcnn_configs_are_in_the_manifest():
    assert sum(rel.startswith("swin/mask_rcnn_") for rel in MANIFEST) == 4
