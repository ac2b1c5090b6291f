"""The tiny LD config trains on generated shapes through ``tools/train.py``.

The teacher is the tiny GFL (``configs/gfl/gfl_r18_fpn_tiny_1x_coco.py``); its checkpoint is
written first (a freshly initialised GFL, saved as ``{meta, state_dict}``) and named by
``teacher_ckpt``. Run: 4 training images (96 px, 3 classes), batch 2, 6 epochs of 2 iterations,
no warmup, logging every iteration. The total loss and DFL of the last two epochs are below
those of the first two. ``loss_ld`` is weighted by the positives' scores and, unlike DFL, not
divided by their sum, so it grows from ~3e-4 as the scores rise from the initial 0.01 (measured:
3e-4 in epoch 1, 0.3-0.7 in epoch 6); it is only checked to be there. The saved checkpoints
hold the student only.
"""

from __future__ import annotations

import torch

from detbox.config import Config
from detbox.models.builder import build_detector
from detbox.utils.safe_load import safe_torch_load
from tests.conftest import REPO
from tests.tools.cli_helpers import json_logs, log_entries, run
from tests.tools.shapes_fixture import make_shapes, shapes_child_config

TINY = REPO / "configs" / "ld" / "ld_r18_gflv1_r18_tiny_1x_coco.py"
TEACHER = REPO / "configs" / "gfl" / "gfl_r18_fpn_tiny_1x_coco.py"


def write_teacher_checkpoint(path):
    """A tiny GFL teacher's checkpoint (initialised as training would start)."""
    torch.manual_seed(0)
    teacher = build_detector(Config.fromfile(TEACHER).model)
    teacher.init_weights()
    torch.save(dict(meta=dict(), state_dict=teacher.state_dict()), path)
    return teacher.state_dict()


def mean_loss(entries, epochs, keys):
    values = [sum(e[k] for k in keys) for e in entries if e["epoch"] in epochs]
    return sum(values) / len(values)


def test_tiny_ld_trains_with_falling_distribution_losses(tmp_path):
    shapes = make_shapes(tmp_path / "data", num_train=4, num_val=1)
    ckpt = tmp_path / "gfl_teacher.pth"
    teacher_sd = write_teacher_checkpoint(ckpt)
    config = tmp_path / "ld_tiny_shapes.py"
    config.write_text(shapes_child_config(
        TINY, shapes, f"teacher_config='{TEACHER}', teacher_ckpt='{ckpt}',\n"
        "             bbox_head=dict(num_classes=3)", lr=0.01))
    run("train.py", config, "--work-dir", tmp_path / "work", "--seed", "0", "--no-validate",
        cwd=tmp_path)
    (log,) = json_logs(tmp_path / "work")
    entries = log_entries(log, "train")
    assert [(e["epoch"], e["iter"]) for e in entries] == [
        (epoch, i) for epoch in range(1, 7) for i in (1, 2)]
    assert all(e["loss_ld"] > 0 and "loss_cls" in e and "loss_bbox" in e for e in entries)
    for keys in (("loss",), ("loss_dfl",)):
        assert mean_loss(entries, (5, 6), keys) < mean_loss(entries, (1, 2), keys), [
            (e["loss"], e["loss_dfl"]) for e in entries]
    saved = safe_torch_load(tmp_path / "work" / "latest.pth")["state_dict"]
    assert saved and not any(k.startswith("teacher") for k in saved)
    assert len(saved) < len(teacher_sd) + 40  # the student's own keys (no teacher copy)
