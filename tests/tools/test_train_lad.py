"""The tiny LAD config trains on generated shapes through ``tools/train.py``.

The teacher's checkpoint (the config's R-18 PAA teacher, freshly initialised, saved as
``{meta, state_dict}``) is written first and named by ``teacher_ckpt``. Run: 4 training images
(96 px, 3 classes), batch 2, 6 epochs of 2 iterations, no warmup, logging every iteration,
with the base config's ``fp16`` (bfloat16 autocast on CPU). The loss of the last two epochs is
below that of the first two (measured: 2.04 in epochs 1-2, 1.76 in epochs 5-6, about 20 s); the
saved checkpoints hold the student only.
"""

from __future__ import annotations

import pytest
import torch

from detbox.config import Config
from detbox.models.builder import build_detector
from detbox.utils.safe_load import safe_torch_load
from tests.conftest import REPO
from tests.tools.cli_helpers import json_logs, log_entries, run
from tests.tools.shapes_fixture import make_shapes, shapes_child_config

TINY = REPO / "configs" / "lad" / "lad_r18_paa_r18_tiny_1x_coco.py"


def write_teacher_checkpoint(path):
    """The tiny LAD teacher's checkpoint (its parts initialised as training would start)."""
    torch.manual_seed(0)
    cfg = Config.fromfile(TINY)
    cfg.model.teacher_bbox_head.num_classes = 3
    teacher = build_detector(cfg.model).teacher_model
    for part in teacher.children():
        part.init_weights()
    torch.save(dict(meta=dict(), state_dict=teacher.state_dict()), path)
    return teacher.state_dict()


def mean_loss(entries, epochs, keys):
    values = [sum(e[k] for k in keys) for e in entries if e["epoch"] in epochs]
    return sum(values) / len(values)


@pytest.mark.slow
def test_tiny_lad_trains(tmp_path):
    shapes = make_shapes(tmp_path / "data", num_train=4, num_val=1)
    ckpt = tmp_path / "paa_teacher.pth"
    teacher_sd = write_teacher_checkpoint(ckpt)
    config = tmp_path / "lad_tiny_shapes.py"
    config.write_text(shapes_child_config(
        TINY, shapes, f"teacher_ckpt='{ckpt}', bbox_head=dict(num_classes=3),\n"
        "             teacher_bbox_head=dict(num_classes=3)", lr=0.01))
    run("train.py", config, "--work-dir", tmp_path / "work", "--seed", "0", "--no-validate",
        cwd=tmp_path)
    (log,) = json_logs(tmp_path / "work")
    entries = log_entries(log, "train")
    assert [(e["epoch"], e["iter"]) for e in entries] == [
        (epoch, i) for epoch in range(1, 7) for i in (1, 2)]
    assert all(e["loss_bbox"] > 0 and "loss_cls" in e and "loss_iou" in e for e in entries)
    assert mean_loss(entries, (5, 6), ("loss",)) < mean_loss(entries, (1, 2), ("loss",)), [
        (e["loss_cls"], e["loss_bbox"], e["loss_iou"]) for e in entries]
    saved = safe_torch_load(tmp_path / "work" / "latest.pth")["state_dict"]
    assert saved and not any(k.startswith("teacher") for k in saved)
    assert len(saved) < len(teacher_sd) + 40  # the student's own keys (no teacher copy)
