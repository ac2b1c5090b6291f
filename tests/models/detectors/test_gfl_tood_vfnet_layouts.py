"""Every MMDetection 2.28.2 config of ``gfl/``, ``tood/`` and ``vfnet/`` builds with the
state_dict MMDetection builds (``tests/data/mmdet_layouts/{gfl,tood,vfnet}.json.gz``, recorded
with real MMDetection by ``make_manifests.py``), the DCN / DCNv2 and Res2Net backbone variants
included."""

import pytest

from detbox.apis.config import load_config
from tests.conftest import REPO
from tests.models.layout_utils import assert_same_layout, build_config_model, load_manifests

FAMILIES = ("gfl", "tood", "vfnet")
MANIFESTS = {rel: expected for family in FAMILIES
             for rel, expected in load_manifests(family).items()}


def test_manifests_cover_every_config_we_copied():
    ours = sorted(p.relative_to(REPO / "configs").as_posix()
                  for family in FAMILIES for p in (REPO / "configs" / family).glob("*.py")
                  if "_tiny_" not in p.name)
    assert ours == sorted(MANIFESTS)
    assert len(ours) == 6 + 7 + 13
    assert all("keys" in MANIFESTS[rel] for rel in MANIFESTS)  # MMDetection builds them all


@pytest.mark.parametrize("rel", sorted(MANIFESTS))
def test_state_dict_layout_equals_mmdetection(rel):
    assert_same_layout(build_config_model(rel), MANIFESTS[rel], rel)


def test_configs_and_tiny_variants_pass_validation():
    tiny = sorted(p for family in FAMILIES for p in (REPO / "configs" / family).glob("*_tiny_*"))
    assert [p.name for p in tiny] == ["gfl_r18_fpn_tiny_1x_coco.py", "tood_r18_fpn_tiny_1x_coco.py",
                                      "vfnet_r18_fpn_tiny_1x_coco.py"]
    for path in tiny + [REPO / "configs" / rel for rel in sorted(MANIFESTS)]:
        load_config(path)
