"""The tiny GFL, TOOD and VFNet configs train on generated shapes through ``tools/train.py``.

Each run: 4 training images (96 px, 3 classes), batch 2, 6 epochs of 2 iterations, no warmup,
logging every iteration; a loss of the last two epochs is below that of the first two. GFL's and
VFNet's classification losses (QFL / varifocal, against the IoU of the predicted boxes, which
starts near 0) grow while the boxes improve, and GFL's GIoU loss is weighted by the growing
scores (its normaliser is clamped at 1), so GFL is checked on DFL and VFNet on its two box
losses. TOOD switches from ATSS to task-aligned assignment after epoch 3 (``initial_epoch=3``,
told by ``SetEpochInfoHook``): its check compares the epochs of each stage separately.
"""

from __future__ import annotations

import pytest

from tests.conftest import REPO
from tests.tools.cli_helpers import json_logs, log_entries, run
from tests.tools.shapes_fixture import make_shapes, shapes_child_config

MODELS = {
    "gfl": ("configs/gfl/gfl_r18_fpn_tiny_1x_coco.py", ""),
    "tood": ("configs/tood/tood_r18_fpn_tiny_1x_coco.py", ", train_cfg=dict(initial_epoch=3)"),
    "vfnet": ("configs/vfnet/vfnet_r18_fpn_tiny_1x_coco.py", ""),
}


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    return make_shapes(tmp_path_factory.mktemp("shapes") / "data", num_train=4, num_val=1)


def train(name, shapes, tmp_path):
    base, train_cfg = MODELS[name]
    config = tmp_path / f"{name}_tiny_shapes.py"
    config.write_text(shapes_child_config(REPO / base, shapes,
                                          f"bbox_head=dict(num_classes=3){train_cfg}", lr=0.01))
    run("train.py", config, "--work-dir", tmp_path / "work", "--seed", "0", "--no-validate",
        cwd=tmp_path)
    (log,) = json_logs(tmp_path / "work")
    entries = log_entries(log, "train")
    assert [(e["epoch"], e["iter"]) for e in entries] == [
        (epoch, i) for epoch in range(1, 7) for i in (1, 2)]
    return entries


def mean_loss(entries, epochs, keys=("loss",)):
    values = [sum(e[k] for k in keys) for e in entries if e["epoch"] in epochs]
    return sum(values) / len(values)


def test_tiny_gfl_trains_with_falling_dfl(shapes, tmp_path):
    entries = train("gfl", shapes, tmp_path)
    assert all("loss_cls" in e and "loss_bbox" in e for e in entries)
    assert mean_loss(entries, (5, 6), ("loss_dfl",)) < mean_loss(entries, (1, 2), ("loss_dfl",)), [
        (e["loss_cls"], e["loss_bbox"], e["loss_dfl"]) for e in entries]


@pytest.mark.slow
def test_tiny_vfnet_trains_with_falling_box_losses(shapes, tmp_path):
    entries = train("vfnet", shapes, tmp_path)
    boxes = ("loss_bbox", "loss_bbox_rf")
    assert all("loss_cls" in e for e in entries)
    assert mean_loss(entries, (5, 6), boxes) < mean_loss(entries, (1, 2), boxes), [
        (e["loss_bbox"], e["loss_bbox_rf"]) for e in entries]


@pytest.mark.slow
def test_tiny_tood_trains_through_both_assignment_stages(shapes, tmp_path):
    entries = train("tood", shapes, tmp_path)
    losses = [e["loss"] for e in entries]
    # epochs 1-3: ATSS targets and focal loss; epochs 4-6: task-aligned targets and QFL
    assert mean_loss(entries, (3,)) < mean_loss(entries, (1,)), losses
    assert mean_loss(entries, (6,)) < mean_loss(entries, (4,)), losses
