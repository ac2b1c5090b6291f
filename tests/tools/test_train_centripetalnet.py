"""A tiny CentripetalNet trains on generated shapes through ``tools/train.py`` with the seed's
recipe (Adam with grad clipping, ``RandomCenterCropPad`` crops); its flip-test evaluation
(``CornerNet.aug_test`` with centripetal pairing and soft-NMS) runs at the end."""

from __future__ import annotations

import pytest

from tests.conftest import REPO
from tests.tools.cli_helpers import json_logs, log_entries, run
from tests.tools.shapes_fixture import CLASSES, make_shapes

CONFIG = REPO / "configs" / "centripetalnet" / "centripetalnet_hourglass_tiny_shapes.py"


@pytest.mark.slow
def test_loss_falls_and_flip_test_evaluates(tmp_path):
    data = make_shapes(tmp_path / "data", num_train=16, num_val=4, size=(96, 96))
    classes = "[" + ",".join(CLASSES) + "]"
    options = [f"classes={classes}", f"model.bbox_head.num_classes={len(CLASSES)}",
               "runner.max_epochs=4", "lr_config.step=[3]", "evaluation.interval=4",
               "checkpoint_config.interval=4", "log_config.interval=2"]
    for split, ann in (("train", "train0"), ("val", "val0"), ("test", "val0")):
        options += [f"data.{split}.classes={classes}",
                    f"data.{split}.ann_file={data / (ann + '.json')}",
                    f"data.{split}.img_prefix={data / 'images'}/"]
    work = tmp_path / "work"
    run("train.py", CONFIG, "--work-dir", work, "--seed", "0", "--cfg-options", *options,
        cwd=tmp_path, timeout=600)
    log = json_logs(work)[-1]
    train = log_entries(log, "train")
    first = [e["loss"] for e in train if e["epoch"] == 1]
    last = [e["loss"] for e in train if e["epoch"] == max(x["epoch"] for x in train)]
    assert sum(last) / len(last) < 0.7 * sum(first) / len(first), (first, last)
    assert {"guiding_loss", "centripetal_loss"} <= set(train[-1]), train[-1]
    val = log_entries(log, "val")
    assert val and "bbox_mAP_50" in val[-1], val
    assert (work / "latest.pth").exists()
