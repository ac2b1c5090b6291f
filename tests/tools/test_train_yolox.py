"""A tiny YOLOX trains on generated shapes through ``tools/train.py`` with YOLOX's recipe:
Mosaic / RandomAffine / MixUp / HSV in a ``MultiImageMixDataset``, random batch sizes,
``YOLOXModeSwitchHook`` (strong augmentations off and the L1 loss on at the configured epoch),
``SyncNormHook``, ``ExpMomentumEMAHook`` (the averaged weights are evaluated and saved) and
the YOLOX lr schedule; then ``tools/test.py`` on the saved checkpoint.
"""

from __future__ import annotations

import pytest
import torch

from detbox.config import Config
from detbox.engine.hooks.ema import ema_buffer_name
from tests.conftest import REPO
from tests.tools.cli_helpers import json_logs, log_entries, printed_metrics, run
from tests.tools.shapes_fixture import CLASSES, make_shapes

CONFIG = REPO / "configs" / "yolox" / "yolox_nano_tiny_shapes.py"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("yolox")
    data = make_shapes(root / "data", num_train=48, num_val=16, size=(96, 96))
    classes = "[" + ",".join(CLASSES) + "]"
    options = [f"classes={classes}", f"data.train.dataset.classes={classes}",
               f"data.val.classes={classes}", f"data.test.classes={classes}",
               f"model.bbox_head.num_classes={len(CLASSES)}",
               f"data.train.dataset.ann_file={data / 'train0.json'}",
               f"data.train.dataset.img_prefix={data / 'images'}/",
               f"data.val.ann_file={data / 'val0.json'}", f"data.val.img_prefix={data / 'images'}/",
               f"data.test.ann_file={data / 'val0.json'}",
               f"data.test.img_prefix={data / 'images'}/"]
    work = root / "work"
    run("train.py", CONFIG, "--work-dir", work, "--seed", "0", "--cfg-options", *options,
        cwd=root, timeout=600)
    return dict(root=root, work=work, options=options, log=json_logs(work)[-1])


@pytest.mark.slow
def test_mode_switch_happens_at_the_configured_epoch(trained):
    cfg = Config.fromfile(CONFIG)
    switch = cfg.max_epochs - cfg.num_last_epochs  # MMDetection's: epoch + 1 == this
    train = log_entries(trained["log"], "train")
    with_l1 = sorted({e["epoch"] for e in train if "loss_l1" in e})
    assert with_l1 == list(range(switch, cfg.max_epochs + 1))
    text = trained["log"].with_suffix("").read_text()
    assert text.count("No mosaic and mixup aug now!") == 1


@pytest.mark.slow
def test_loss_falls_and_evaluation_finds_the_shapes(trained):
    train = log_entries(trained["log"], "train")
    first = [e["loss_obj"] + e["loss_bbox"] for e in train if e["epoch"] == 1]
    last = [e["loss_obj"] + e["loss_bbox"] for e in train if e["epoch"] == max(
        x["epoch"] for x in train)]
    assert sum(last) / len(last) < 0.8 * sum(first) / len(first)
    val = log_entries(trained["log"], "val")
    assert val[-1]["bbox_mAP_50"] > 0.2, [v["bbox_mAP_50"] for v in val]


@pytest.mark.slow
def test_the_averaged_weights_are_saved_and_evaluated(trained):
    ckpt = torch.load(trained["work"] / "latest.pth", map_location="cpu", weights_only=False)
    sd = ckpt["state_dict"]
    key = "bbox_head.multi_level_conv_cls.0.weight"
    # the model's keys hold the EMA, the ema_* buffers the raw weights of the last iteration
    assert ema_buffer_name(key) in sd and not torch.equal(sd[key], sd[ema_buffer_name(key)])
    result = run("test.py", CONFIG, trained["work"] / "latest.pth", "--eval", "bbox",
                 "--cfg-options", *trained["options"], cwd=trained["root"])
    logged = log_entries(trained["log"], "val")[-1]
    assert printed_metrics(result.stdout)["bbox_mAP_50"] == pytest.approx(
        logged["bbox_mAP_50"], abs=1e-4)
