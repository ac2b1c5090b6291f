"""Every MMDetection 2.28.2 config of ``dcn/``, ``dcnv2/`` and ``res2net/`` builds with the
state_dict MMDetection builds (``tests/data/mmdet_layouts/{dcn,dcnv2,res2net}.json.gz``,
recorded with real MMDetection by ``make_manifests.py dcn 'dcn/*.py' 'fcos/*_dcn_*.py'``,
``dcnv2 'dcnv2/*.py'``, ``res2net 'res2net/*.py'``), the ``dpool`` / ``mdpool`` ones with
deformable RoI pooling included. The ``dcn`` manifest also holds FCOS's one DCN-backbone config
(the FCOS folder's other configs are in the one-stage layouts). The other DCN / Res2Net
variants are in their families' tests (GFL, TOOD, VFNet, RepPoints, HTC)."""

import pytest

from tests.conftest import REPO
from tests.models.layout_utils import assert_same_layout, build_config_model, load_manifests

FAMILIES = ("dcn", "dcnv2", "res2net")
MANIFESTS = {rel: expected for family in FAMILIES
             for rel, expected in load_manifests(family).items()}

EXTRA = ["fcos/fcos_center-normbbox-centeronreg-giou_r50_caffe_fpn_gn-head_dcn_1x_coco.py"]


def test_manifests_cover_every_config_we_copied():
    ours = sorted(p.relative_to(REPO / "configs").as_posix()
                  for family in FAMILIES for p in (REPO / "configs" / family).glob("*.py")
                  if "_tiny_" not in p.name)
    assert sorted(ours + EXTRA) == sorted(MANIFESTS)
    assert len(ours) == 12 + 5 + 5
    assert all("keys" in MANIFESTS[rel] for rel in MANIFESTS)  # MMDetection builds them all


@pytest.mark.parametrize("rel", sorted(MANIFESTS))
def test_state_dict_layout_equals_mmdetection(rel):
    assert_same_layout(build_config_model(rel), MANIFESTS[rel], rel)
