"""A tiny SSDLite (MobileNetV2, depthwise SSDNeck and SSDHead) trains on generated shapes
through ``tools/train.py``: the loss falls, and ``tools/test.py`` evaluates the checkpoint."""

from __future__ import annotations

import pytest

from tests.conftest import REPO
from tests.tools.cli_helpers import json_logs, log_entries, printed_metrics, run
from tests.tools.shapes_fixture import CLASSES, make_shapes

CONFIG = REPO / "configs" / "ssd" / "ssdlite_mobilenetv2_tiny_shapes.py"


@pytest.mark.slow
def test_loss_falls_and_the_checkpoint_evaluates(tmp_path):
    data = make_shapes(tmp_path / "data", num_train=16, num_val=4, size=(96, 96))
    classes = "[" + ",".join(CLASSES) + "]"
    options = [f"classes={classes}", f"model.bbox_head.num_classes={len(CLASSES)}"]
    for split, ann in (("train", "train0"), ("val", "val0"), ("test", "val0")):
        options += [f"data.{split}.classes={classes}",
                    f"data.{split}.ann_file={data / (ann + '.json')}",
                    f"data.{split}.img_prefix={data / 'images'}/"]
    work = tmp_path / "work"
    run("train.py", CONFIG, "--work-dir", work, "--seed", "0", "--cfg-options", *options,
        cwd=tmp_path, timeout=600)
    train = log_entries(json_logs(work)[-1], "train")
    first = [e["loss"] for e in train if e["epoch"] == 1]
    last = [e["loss"] for e in train if e["epoch"] == max(x["epoch"] for x in train)]
    assert sum(last) / len(last) < 0.7 * sum(first) / len(first), (first, last)
    result = run("test.py", CONFIG, work / "latest.pth", "--eval", "bbox", "--cfg-options",
                 *options, cwd=tmp_path, timeout=300)
    metrics = printed_metrics(result.stdout)
    assert 0.0 <= metrics["bbox_mAP_50"] <= 1.0, metrics
