"""KnowledgeDistillationSingleStageDetector: the teacher is built from its config, loaded from a
checkpoint safely (local file, or a URL through the hub cache), kept out of the student's
state_dict and parameters, moved with the student and kept in eval mode."""

from __future__ import annotations

import hashlib
import io

import numpy as np
import pytest
import torch

from detbox.models.builder import build_detector
from detbox.utils.safe_load import UnsafeCheckpointError
from tests.utils.checkpoint_payloads import save_malicious
from tests.utils.weights_server import WeightsServer

ANCHORS = dict(type="AnchorGenerator", ratios=[1.0], octave_base_scale=8, scales_per_octave=1,
               strides=[8, 16])
TRAIN_CFG = dict(assigner=dict(type="ATSSAssigner", topk=9), allowed_border=-1, pos_weight=-1,
                 debug=False)
TEST_CFG = dict(nms_pre=100, min_bbox_size=0, score_thr=0.05,
                nms=dict(type="nms", iou_threshold=0.6), max_per_img=10)


def gfl_parts(head_type="GFLHead", channels=8, **head):
    return dict(
        backbone=dict(type="ResNet", depth=18, base_channels=channels, num_stages=4,
                      out_indices=(1, 2), frozen_stages=1, norm_eval=True, init_cfg=None),
        neck=dict(type="FPN", in_channels=[2 * channels, 4 * channels], out_channels=8,
                  num_outs=2),
        bbox_head=dict(type=head_type, num_classes=3, in_channels=8, feat_channels=8,
                       stacked_convs=1, reg_max=4, anchor_generator=ANCHORS,
                       norm_cfg=dict(type="GN", num_groups=4),
                       loss_cls=dict(type="QualityFocalLoss", use_sigmoid=True, beta=2.0),
                       loss_bbox=dict(type="GIoULoss", loss_weight=2.0), **head),
        train_cfg=TRAIN_CFG, test_cfg=TEST_CFG)


def teacher_cfg():
    return dict(model=dict(type="GFL", **gfl_parts(channels=4)))


def student(teacher_config=None, **kwargs):
    torch.manual_seed(0)
    cfg = dict(type="KnowledgeDistillationSingleStageDetector",
               teacher_config=teacher_config or teacher_cfg(), **gfl_parts("LDHead"), **kwargs)
    return build_detector(cfg)


def batch():
    torch.manual_seed(1)
    img = torch.randn(2, 3, 64, 64)
    meta = dict(img_shape=(64, 64, 3), ori_shape=(64, 64, 3), pad_shape=(64, 64, 3),
                scale_factor=np.ones(4, dtype=np.float32), flip=False, flip_direction=None)
    return (img, [dict(meta), dict(meta)],
            [torch.tensor([[4.0, 6.0, 60.0, 58.0]]), torch.tensor([[10.0, 2.0, 62.0, 50.0]])],
            [torch.tensor([1]), torch.tensor([0])])


def teacher_weights(seed=3):
    torch.manual_seed(seed)
    return build_detector(teacher_cfg()["model"]).state_dict()


def test_the_teacher_is_not_part_of_the_student():
    model = student()
    assert type(model.teacher_model).__name__ == "GFL"
    assert "teacher_model" not in dict(model.named_children())
    assert not any(k.startswith("teacher") for k in model.state_dict())
    teacher_params = {id(p) for p in model.teacher_model.parameters()}
    assert not teacher_params & {id(p) for p in model.parameters()}
    assert all(m is not model.teacher_model for m in model.modules())


def test_training_uses_the_teacher_s_outputs_without_training_it():
    model = student()
    model.train()
    assert model.training and not model.teacher_model.training  # eval_teacher
    img, metas, gt_bboxes, gt_labels = batch()
    losses = model(img, metas, gt_bboxes=gt_bboxes, gt_labels=gt_labels)
    assert set(losses) == {"loss_cls", "loss_bbox", "loss_dfl", "loss_ld"}
    loss, log_vars = model._parse_losses(losses)
    assert log_vars["loss_ld"] > 0
    loss.backward()
    assert all(p.grad is None for p in model.teacher_model.parameters())
    assert model.bbox_head.gfl_reg.weight.grad.abs().sum() > 0
    assert metas[0]["batch_input_shape"] == (64, 64)
    # the distillation term follows the teacher: another teacher, another loss_ld
    other = student()
    other.teacher_model.load_state_dict(teacher_weights(seed=9))
    other.train()
    other_ld = sum(other(img, batch()[1], gt_bboxes=gt_bboxes, gt_labels=gt_labels)["loss_ld"])
    assert not torch.isclose(other_ld.detach(), sum(losses["loss_ld"]).detach())


def test_eval_teacher_false_lets_the_teacher_follow_train():
    model = student(eval_teacher=False)
    model.train()
    assert model.teacher_model.training
    model.eval()
    assert not model.teacher_model.training


def test_testing_is_the_student_s_alone():
    model = student()
    model.eval()
    img, metas, _, _ = batch()
    with torch.no_grad():
        results = model(img=[img[:1]], img_metas=[metas[:1]], return_loss=False)
    assert len(results) == 1 and len(results[0]) == 3


def test_the_teacher_moves_with_the_student():
    model = student()
    model.double()
    assert all(p.dtype == torch.float64 for p in model.teacher_model.parameters())
    model.to(torch.float32)
    assert all(p.dtype == torch.float32 for p in model.teacher_model.parameters())
    model.use_channels_last()
    assert model.teacher_model.channels_last
    conv = model.teacher_model.backbone.conv1.weight
    assert conv.is_contiguous(memory_format=torch.channels_last)
    with torch.device("meta"):
        meta_model = student()
    assert all(p.is_meta for p in meta_model.teacher_model.parameters())


def test_teacher_weights_come_from_the_checkpoint(tmp_path):
    weights = teacher_weights()
    path = tmp_path / "teacher.pth"
    torch.save(dict(meta=dict(epoch=12), state_dict=weights), path)
    model = student(teacher_ckpt=str(path))
    for key, value in model.teacher_model.state_dict().items():
        assert torch.equal(value, weights[key]), key


def test_a_teacher_checkpoint_that_runs_code_is_refused(tmp_path):
    path = save_malicious(tmp_path / "evil.pth", tmp_path / "marker", teacher_weights())
    with pytest.raises(UnsafeCheckpointError, match="evil.pth"):
        student(teacher_ckpt=str(path))
    assert not (tmp_path / "marker").exists()


def test_a_teacher_checkpoint_url_is_downloaded_into_the_hub_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "_hub_dir", None)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv("DETBOX_OFFLINE", raising=False)
    monkeypatch.delenv("DETBOX_WEIGHTS_MIRROR", raising=False)
    weights = teacher_weights()
    buffer = io.BytesIO()
    torch.save(dict(meta=dict(), state_dict=weights), buffer)
    body = buffer.getvalue()
    name = f"gfl_tiny_20260101-{hashlib.sha256(body).hexdigest()[:8]}.pth"
    with WeightsServer({f"/zoo/{name}": body}) as server:
        student(teacher_ckpt=f"{server.url}/zoo/{name}")
        model = student(teacher_ckpt=f"{server.url}/zoo/{name}")
        assert len(server.requests) == 1  # the second build reads the cached file
    assert (tmp_path / "torch" / "hub" / "checkpoints" / name).is_file()
    assert torch.equal(model.teacher_model.bbox_head.gfl_reg.weight,
                       weights["bbox_head.gfl_reg.weight"])


def test_teacher_config_files_resolve_against_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "teacher.py").write_text(f"model = {teacher_cfg()['model']!r}\n")
    monkeypatch.chdir(tmp_path)
    assert type(student("configs/teacher.py").teacher_model).__name__ == "GFL"
    monkeypatch.chdir(tmp_path / "configs")
    with pytest.raises(FileNotFoundError, match=r"teacher_config configs/teacher.py: no such "
                                                r"file .*working directory"):
        student("configs/teacher.py")
    (tmp_path / "configs" / "empty.py").write_text("x = 1\n")
    with pytest.raises(ValueError, match="empty.py has no 'model' field"):
        student("empty.py")
