"""A tiny YOLOv3 (MobileNetV2 at width 0.25) trains on generated shapes through
``tools/train.py``: its losses fall and the run evaluates."""

from __future__ import annotations

import pytest

from tests.conftest import REPO
from tests.tools.cli_helpers import json_logs, log_entries, run
from tests.tools.shapes_fixture import CLASSES, make_shapes

CONFIG = REPO / "configs" / "yolo" / "yolov3_mobilenetv2_tiny_shapes.py"


@pytest.mark.slow
def test_tiny_yolov3_trains_and_its_loss_falls(tmp_path):
    data = make_shapes(tmp_path / "data", num_train=32, num_val=8, size=(96, 96))
    classes = "[" + ",".join(CLASSES) + "]"
    work = tmp_path / "work"
    run("train.py", CONFIG, "--work-dir", work, "--seed", "0", "--cfg-options",
        f"data.train.classes={classes}", f"data.val.classes={classes}",
        f"data.test.classes={classes}", f"model.bbox_head.num_classes={len(CLASSES)}",
        f"data.train.ann_file={data / 'train0.json'}", f"data.train.img_prefix={data / 'images'}/",
        f"data.val.ann_file={data / 'val0.json'}", f"data.val.img_prefix={data / 'images'}/",
        f"data.test.ann_file={data / 'val0.json'}", f"data.test.img_prefix={data / 'images'}/",
        cwd=tmp_path, timeout=600)
    train = log_entries(json_logs(work)[-1], "train")
    assert {"loss_cls", "loss_conf", "loss_xy", "loss_wh"} <= set(train[0])
    first = [e["loss"] for e in train if e["epoch"] == 1]
    last = [e["loss"] for e in train if e["epoch"] == max(x["epoch"] for x in train)]
    assert sum(last) / len(last) < 0.7 * sum(first) / len(first), (first, last)
    val = log_entries(json_logs(work)[-1], "val")
    assert "bbox_mAP_50" in val[-1]
