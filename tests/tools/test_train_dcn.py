"""The tiny Faster R-CNN with DCNv2 in its ResNet-50 trains on generated shapes through
``tools/train.py``.

4 training images (96 px, 3 classes), batch 2, 6 epochs of 2 iterations, no warmup, logging
every iteration: the loss of the last two epochs is below that of the first two, and the
deformable convs' offset predictors, which start at zero (a plain conv with half weights), have
learned (non-zero ``conv_offset`` weights in the saved checkpoint).
"""

from __future__ import annotations

import torch

from tests.conftest import REPO
from tests.tools.cli_helpers import json_logs, log_entries, run
from tests.tools.shapes_fixture import make_shapes, shapes_child_config

BASE = REPO / "configs" / "dcnv2" / "faster_rcnn_r50_fpn_mdconv_c4-c5_tiny_1x_coco.py"


def test_tiny_dcnv2_faster_rcnn_trains(tmp_path):
    data = make_shapes(tmp_path / "data", num_train=4, num_val=1)
    config = tmp_path / "faster_rcnn_dcnv2_tiny_shapes.py"
    model = "roi_head=dict(bbox_head=dict(num_classes=3))"
    config.write_text(shapes_child_config(BASE, data, model, lr=0.02))
    run("train.py", config, "--work-dir", tmp_path / "work", "--seed", "0", "--no-validate",
        cwd=tmp_path)
    (log,) = json_logs(tmp_path / "work")
    entries = log_entries(log, "train")
    assert [(e["epoch"], e["iter"]) for e in entries] == [
        (epoch, i) for epoch in range(1, 7) for i in (1, 2)]
    losses = [e["loss"] for e in entries]
    assert sum(losses[-4:]) < sum(losses[:4]), losses
    state = torch.load(tmp_path / "work" / "latest.pth", weights_only=True)["state_dict"]
    offsets = [k for k in state if k.endswith("conv2.conv_offset.weight")]
    assert len(offsets) == 6 + 3 and all(k.startswith(("backbone.layer3.", "backbone.layer4."))
                                         for k in offsets)
    assert all(state[k].abs().sum() > 0 for k in offsets)
