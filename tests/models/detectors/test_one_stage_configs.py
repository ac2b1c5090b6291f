"""Every one-stage model config we ship builds and runs a training and a test step on CPU."""


import numpy as np
import pytest
import torch

from detbox.apis.config import load_config
from detbox.config import Config
from detbox.models.builder import build_detector
from tests.conftest import REPO

FOLDERS = ("retinanet", "fcos", "atss", "dyhead")
CONFIGS = sorted(p.relative_to(REPO / "configs").as_posix()
                 for folder in FOLDERS for p in (REPO / "configs" / folder).glob("*.py"))
TINY = [c for c in CONFIGS if "tiny" in c]
# Too big to run here (Swin-L, 200M parameters): its layout is checked against MMDetection in
# test_swin_layouts.py and Swin detectors run in the Swin parity and tiny-config tests.
NOT_RUN = {"dyhead/atss_swin-l-p4-w12_fpn_dyhead_mstrain_2x_coco.py"}


def tiny_batch(size=64):
    """Two images (batch norms of 1x1 levels need more than one value per channel)."""
    torch.manual_seed(0)
    img = torch.randn(2, 3, size, size)
    meta = dict(img_shape=(size, size, 3), ori_shape=(size, size, 3), pad_shape=(size, size, 3),
                scale_factor=np.ones(4, dtype=np.float32), flip=False, flip_direction=None)
    boxes = [torch.tensor([[8.0, 8.0, 40.0, 50.0]]), torch.tensor([[20.0, 4.0, 60.0, 30.0]])]
    return img, [meta, dict(meta)], boxes, [torch.tensor([1]), torch.tensor([3])]


def model_groups():
    """Configs grouped by identical model settings (a 2x config differs from its 1x one only in
    the schedule): ``{representative: [configs with the same model]}``."""
    groups: dict[str, list[str]] = {}
    for rel in CONFIGS:
        key = Config.fromfile(REPO / "configs" / rel).model.to_dict().__repr__()
        groups.setdefault(key, []).append(rel)
    return {members[0]: members for members in groups.values()}


def test_all_configs_are_listed():
    # incl. ascend_retinanet_r18, retinanet_r50_caffe (GA base) and the DCN-backbone FCOS
    assert len(CONFIGS) == 27
    assert len(TINY) == 4
    for name in ("retinanet/retinanet_mobilenetv2_fpn_1x_coco.py",
                 "atss/atss_mobilenetv2_bifpn_1x_coco.py",
                 "dyhead/atss_r50_fpn_dyhead_1x_coco.py"):
        assert name in CONFIGS


def test_configs_pass_validation_and_typos_are_caught(tmp_path):
    for rel in CONFIGS:
        load_config(REPO / "configs" / rel)
    bad = tmp_path / "typo.py"
    bad.write_text(f"_base_ = '{REPO / 'configs/fcos/fcos_r18_fpn_gn-head_tiny_1x_coco.py'}'\n"
                   "model = dict(bbox_head=dict(norm_on_box=True))\n")
    with pytest.raises(Exception, match="norm_on_bbox"):
        load_config(bad)


def run_one_step(rel):
    cfg = Config.fromfile(REPO / "configs" / rel)
    cfg.model.backbone.init_cfg = None  # no ImageNet file is needed to build
    model = build_detector(cfg.model)
    model.init_weights()
    img, metas, gt_bboxes, gt_labels = tiny_batch()
    model.train()
    losses = model(img, metas, gt_bboxes=gt_bboxes, gt_labels=gt_labels)
    loss, log_vars = model._parse_losses(losses)
    assert torch.isfinite(loss) and loss > 0
    loss.backward()
    assert all(k in log_vars for k in ("loss_cls", "loss_bbox"))
    model.eval()
    with torch.no_grad():
        results = model(img=[img], img_metas=[metas], return_loss=False, rescale=True)
    assert len(results) == 2
    for result in results:
        assert len(result) == cfg.model.bbox_head.num_classes
        assert all(r.ndim == 2 and r.shape[1] == 5 for r in result)
    return model


@pytest.mark.parametrize("rel", TINY)
def test_tiny_config_trains_and_tests_one_step(rel):
    # (speed belongs in bench/, not in a timed assertion that fails on a loaded machine)
    run_one_step(rel)


GROUPS = model_groups()


def test_configs_sharing_a_model_differ_only_in_schedule():
    shared = {rel: members for rel, members in GROUPS.items() if len(members) > 1}
    assert shared["retinanet/retinanet_r50_fpn_1x_coco.py"] == [
        "retinanet/retinanet_r50_fpn_1x_coco.py", "retinanet/retinanet_r50_fpn_2x_coco.py"]
    assert sum(len(m) for m in GROUPS.values()) == len(CONFIGS)
    for members in shared.values():
        runners = {Config.fromfile(REPO / "configs" / rel).runner.max_epochs for rel in members}
        assert runners == {12, 24}


@pytest.mark.slow
@pytest.mark.parametrize("rel", [c for c in GROUPS if c not in TINY and c not in NOT_RUN])
def test_config_trains_and_tests_one_step(rel):
    """One step per distinct model (see test_configs_sharing_a_model_differ_only_in_schedule)."""
    run_one_step(rel)
