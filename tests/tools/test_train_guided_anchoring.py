"""The tiny GA-RetinaNet config trains through ``tools/train.py`` on generated shapes.

A child config inherits ``configs/guided_anchoring/ga_retinanet_r18_fpn_tiny_1x_coco.py`` and
replaces its data section with the shapes (96 px); a few iterations with the log written every
iteration: the loss falls, and the four GA losses are logged.
"""

from __future__ import annotations

import pytest

from tests.conftest import REPO
from tests.tools.cli_helpers import json_logs, log_entries, run
from tests.tools.shapes_fixture import CLASSES, make_shapes
from tests.tools.test_train_dense2_tiny import CHILD


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    root = tmp_path_factory.mktemp("ga_tiny")
    make_shapes(root / "data", num_train=8, num_val=1, max_shapes=1)
    return root


def test_tiny_ga_retinanet_trains_and_the_loss_falls(shapes):
    base = REPO / "configs" / "guided_anchoring" / "ga_retinanet_r18_fpn_tiny_1x_coco.py"
    config = shapes / "ga_retinanet_r18_fpn_tiny_shapes.py"
    config.write_text(CHILD.format(base=base, num_classes=len(CLASSES), data_root=shapes / "data",
                                   classes=CLASSES, lr=0.01, epochs=4))
    work_dir = shapes / "work"
    run("train.py", config, "--work-dir", work_dir, "--seed", "0", "--no-validate",
        cwd=shapes)
    train = log_entries(json_logs(work_dir)[-1], "train")
    assert len(train) == 8  # 4 epochs of 2 batches
    assert {"loss_cls", "loss_bbox", "loss_shape", "loss_loc"} <= set(train[0])
    losses = [e["loss"] for e in train]
    assert all(loss == loss and loss > 0 for loss in losses)  # finite, positive
    first, last = sum(losses[:2]) / 2, sum(losses[-2:]) / 2
    assert last < 0.9 * first, losses
