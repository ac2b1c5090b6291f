"""LAD models built from our configs have MMDetection 2.28.2's state_dict layout.

``tests/data/mmdet_layouts/lad.json.gz`` was recorded with real MMDetection
(``make_manifests.py lad 'lad/*.py'``) with ``teacher_ckpt=None``: the teacher (given inline
in these configs) is not in the state_dict, and its weights are a model-zoo URL; here likewise,
so nothing is downloaded.
"""

import pytest

from detbox.apis.config import load_config
from tests.conftest import REPO
from tests.models.layout_utils import assert_same_layout, build_config_model, load_manifests

MANIFEST = load_manifests("lad")
PENDING: dict[str, str] = {}  # every config builds


def test_manifest_covers_the_folder():
    assert len(MANIFEST) == 2 and all(rel.startswith("lad/") for rel in MANIFEST)
    assert all("keys" in entry for entry in MANIFEST.values())  # MMDetection built them all


@pytest.mark.parametrize("rel", sorted(set(MANIFEST) - set(PENDING)))
def test_state_dict_layout_equals_mmdetection(rel):
    model = build_config_model(rel, options={"model.teacher_ckpt": None})
    assert_same_layout(model, MANIFEST[rel], rel)
    assert not any(k.startswith("teacher") for k in model.state_dict())
    teacher = model.teacher_model
    assert type(teacher.bbox_head).__name__ == "LADHead"
    assert teacher.bbox_head.train_cfg is not None  # the student's, for the assignment
    assert not teacher.training  # eval_teacher


def test_configs_and_the_tiny_variant_pass_validation():
    tiny = sorted(p.name for p in (REPO / "configs" / "lad").glob("*_tiny_*"))
    assert tiny == ["lad_r18_paa_r18_tiny_1x_coco.py"]
    for rel in [*sorted(MANIFEST), f"lad/{tiny[0]}"]:
        assert load_config(REPO / "configs" / rel).model.type == "LAD", rel
    model = build_config_model(f"lad/{tiny[0]}")
    assert model.teacher_model.bbox_head.feat_channels == 64
    assert len(model.teacher_model.backbone.res_layers) == 4
