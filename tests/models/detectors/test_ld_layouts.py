"""LD models built from our configs have MMDetection 2.28.2's state_dict layout.

``tests/data/mmdet_layouts/ld.json.gz`` was recorded with real MMDetection
(``make_manifests.py ld 'ld/*.py'``): every config of MMDetection's ``configs/ld/``, built with
``teacher_ckpt=None`` (the teacher is not in the state_dict; its weights are a model-zoo URL)
from the directory holding ``configs/``, where the relative ``teacher_config`` resolves. Here
likewise: ``teacher_ckpt=None`` (nothing is downloaded) and the repository root as the working
directory.
"""

import pytest

from tests.conftest import REPO
from tests.models.layout_utils import assert_same_layout, build_config_model, load_manifests

MANIFEST = load_manifests("ld")
NO_TEACHER_WEIGHTS = {"model.teacher_ckpt": None}


def test_manifest_covers_the_folder():
    assert len(MANIFEST) == 4 and all(rel.startswith("ld/") for rel in MANIFEST)
    assert all("keys" in entry for entry in MANIFEST.values())  # MMDetection built them all


@pytest.mark.parametrize("rel", sorted(MANIFEST))  # the DCN-teacher one included
def test_state_dict_layout_equals_mmdetection(rel, monkeypatch):
    monkeypatch.chdir(REPO)
    model = build_config_model(rel, options=NO_TEACHER_WEIGHTS)
    assert_same_layout(model, MANIFEST[rel], rel)
    assert not any(k.startswith("teacher") for k in model.state_dict())
    assert type(model.teacher_model).__name__ == "GFL"


def test_the_teacher_checkpoint_url_is_not_downloaded_offline(monkeypatch, tmp_path):
    """With the config's URL and DETBOX_OFFLINE=1 (set for the suite) the build stops at the
    missing file, naming where to put it."""
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="gfl_r101_fpn_mstrain_2x_coco_20200629"):
        build_config_model("ld/ld_r18_gflv1_r101_fpn_coco_1x.py")
    assert not any(tmp_path.rglob("*.pth"))


def test_a_missing_teacher_config_is_named(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # configs/gfl/... is relative to the working directory
    with pytest.raises(FileNotFoundError, match="configs/gfl/gfl_r101_fpn_mstrain_2x_coco.py"):
        build_config_model("ld/ld_r18_gflv1_r101_fpn_coco_1x.py", options=NO_TEACHER_WEIGHTS)


def test_configs_and_the_tiny_variant_pass_validation(monkeypatch):
    from detbox.apis.config import load_config

    monkeypatch.chdir(REPO)
    tiny = sorted(p.name for p in (REPO / "configs" / "ld").glob("*_tiny_*"))
    assert tiny == ["ld_r18_gflv1_r18_tiny_1x_coco.py"]
    for rel in [*sorted(MANIFEST), f"ld/{tiny[0]}"]:
        cfg = load_config(REPO / "configs" / rel)
        assert cfg.model.type == "KnowledgeDistillationSingleStageDetector", rel
    cfg = load_config(REPO / "configs" / "ld" / tiny[0])
    assert cfg.model.teacher_config == "configs/gfl/gfl_r18_fpn_tiny_1x_coco.py"
    model = build_config_model(f"ld/{tiny[0]}", options=NO_TEACHER_WEIGHTS)
    assert type(model.teacher_model.bbox_head).__name__ == "GFLHead"
    assert model.bbox_head.feat_channels == 64
