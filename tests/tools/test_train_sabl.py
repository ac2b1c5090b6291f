"""The tiny SABL RetinaNet config trains on generated shapes through ``tools/train.py``.

4 training images (96 px, 3 classes), batch 2, 6 epochs of 2 iterations, lr 0.03, no warmup,
logging every iteration; the loss of the last two epochs is below that of the first two, and so
are the bucket classification and offset losses (measured: 2.679 -> 2.602, 0.892 -> 0.880,
0.660 -> 0.630).
"""

from __future__ import annotations

from tests.conftest import REPO
from tests.tools.cli_helpers import json_logs, log_entries, run
from tests.tools.shapes_fixture import make_shapes, shapes_child_config


def mean_loss(entries, epochs, key="loss"):
    values = [e[key] for e in entries if e["epoch"] in epochs]
    return sum(values) / len(values)


def test_tiny_sabl_retinanet_trains_with_falling_losses(tmp_path):
    data = make_shapes(tmp_path / "data", num_train=4, num_val=1)
    config = tmp_path / "sabl_retinanet_tiny_shapes.py"
    base = REPO / "configs/sabl/sabl_retinanet_r18_fpn_tiny_1x_coco.py"
    config.write_text(shapes_child_config(base, data, "bbox_head=dict(num_classes=3)", lr=0.03))
    run("train.py", config, "--work-dir", tmp_path / "work", "--seed", "0", "--no-validate",
        cwd=tmp_path)
    (log,) = json_logs(tmp_path / "work")
    entries = log_entries(log, "train")
    assert [(e["epoch"], e["iter"]) for e in entries] == [
        (epoch, i) for epoch in range(1, 7) for i in (1, 2)]
    assert all({"loss_cls", "loss_bbox_cls", "loss_bbox_reg"} <= set(e) for e in entries)
    for key in ("loss", "loss_bbox_cls", "loss_bbox_reg"):
        assert mean_loss(entries, (5, 6), key) < mean_loss(entries, (1, 2), key), [
            (e["loss_cls"], e["loss_bbox_cls"], e["loss_bbox_reg"]) for e in entries]
