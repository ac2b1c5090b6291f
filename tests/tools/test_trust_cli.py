"""The tools as a user runs them: checkpoints that carry code are refused (and run only when
trusted), num_classes follows classes, the data check, and pretrained weights downloaded from
a (local) server."""

from __future__ import annotations

import io
import json
import logging
import re
import shutil
from pathlib import Path

import pytest
import torch

from detbox.utils.safe_load import safe_torch_load
from tests.tools.cli_helpers import run
from tests.tools.personal_configs import DATASET, make_config_tree
from tests.tools.shapes_fixture import CLASSES, make_shapes
from tests.utils.checkpoint_payloads import save_malicious
from tests.utils.weights_server import WeightsServer

FASTER = "configs/_me_/faster_rcnn_r18_fpn_tiny_shapes.py"
SHORT = ["--no-validate", "--cfg-options", "runner.max_epochs=1"]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return make_shapes(tmp_path_factory.mktemp("shapes") / "data", num_train=4, num_val=1)


@pytest.fixture
def tree(tmp_path, data, monkeypatch):
    monkeypatch.delenv("DETBOX_TRUST_CHECKPOINTS", raising=False)
    shutil.copytree(data, tmp_path / "data")
    make_config_tree(tmp_path, tmp_path / "data", epochs=1)
    return tmp_path


def one_error(result, *needles):
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr[-2000:]
    for needle in needles:
        assert needle in result.stderr, result.stderr[-2000:]
    return result.stderr


def model_weights(tree) -> dict:
    from detbox.apis import init_detector
    from detbox.config import Config

    cfg = Config.fromfile(tree / FASTER)
    return init_detector(cfg).state_dict()


@pytest.mark.slow
def test_the_test_tool_refuses_a_checkpoint_that_carries_code(tree):
    marker = tree / "marker"
    evil = save_malicious(tree / "downloaded.pth", marker, model_weights(tree))
    for_test = ("test.py", FASTER, str(evil), "--eval", "bbox")
    text = one_error(run(*for_test, cwd=tree, check=False), "refused to load checkpoint",
                     str(evil), "--trust-checkpoint", "builtins.exec")
    assert "DETBOX_TRUST_CHECKPOINTS=1" in text and not marker.exists()
    result = run(*for_test, "--trust-checkpoint", cwd=tree)  # trusted: loads (its code runs)
    assert "bbox_mAP" in result.stdout and marker.exists()


@pytest.fixture
def clean_logger():
    logger = logging.getLogger("detbox")
    handlers, level = list(logger.handlers), logger.level
    yield
    for handler in logger.handlers[:]:
        if handler not in handlers:
            logger.removeHandler(handler)
            handler.close()
    logger.setLevel(level)


def _train(cfg, work_dir):
    from detbox.apis import train_detector
    from detbox.datasets import build_dataset
    from detbox.models.builder import build_detector

    cfg.work_dir = str(work_dir)
    model = build_detector(cfg.model)
    dataset = build_dataset(cfg.data.train)
    model.CLASSES = dataset.CLASSES
    return train_detector(model, dataset, cfg, validate=False)


def test_load_from_and_resume_from_refuse_a_checkpoint_that_carries_code(tree, clean_logger):
    from detbox.apis import load_config
    from detbox.utils.safe_load import UnsafeCheckpointError, trusted_checkpoints

    marker = tree / "marker"
    evil = save_malicious(tree / "downloaded.pth", marker, model_weights(tree), epoch=1, iter=2)
    for key in ("load_from", "resume_from"):
        cfg = load_config(tree / FASTER, {"runner.max_epochs": 0, key: str(evil)})
        with pytest.raises(UnsafeCheckpointError, match="refused to load checkpoint"):
            _train(cfg, tree / key)
    cfg = load_config(tree / FASTER, {"runner.max_epochs": 0, "auto_resume": True})
    (tree / "auto").mkdir()
    shutil.copy(evil, tree / "auto" / "epoch_1.pth")
    with pytest.raises(UnsafeCheckpointError):
        _train(cfg, tree / "auto")
    assert not marker.exists()
    cfg = load_config(tree / FASTER, {"runner.max_epochs": 1, "resume_from": str(evil)})
    with trusted_checkpoints():
        runner = _train(cfg, tree / "trusted")
    assert marker.exists() and runner.epoch == 1 and runner.iter == 2
    marker.unlink()
    cfg = load_config(tree / FASTER, {"runner.max_epochs": 0, "load_from": str(evil)})
    with trusted_checkpoints():
        _train(cfg, tree / "trusted_load_from")
    assert marker.exists()


def test_load_from_a_checkpoint_of_another_model_is_an_error(tree, clean_logger):
    from detbox.apis import load_config
    from detbox.utils.safe_load import CheckpointError

    other = tree / "other.pth"
    torch.save({"state_dict": {"head.fc.weight": torch.zeros(2, 2)}}, other)
    cfg = load_config(tree / FASTER, {"runner.max_epochs": 0, "load_from": str(other)})
    with pytest.raises(CheckpointError, match="a checkpoint of another model?"):
        _train(cfg, tree / "work")


FOUR = '''\
_base_ = [
    '../_base_/models/cascade_rcnn_r50_fpn.py', './_base_/datasets/four.py',
    '../_base_/schedules/schedule_1x.py', '../_base_/default_runtime.py'
]
# a small backbone and neck; the three bbox heads keep num_classes=80 from the base
model = dict(
    backbone=dict(depth=18, init_cfg=None),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=32),
    rpn_head=dict(in_channels=32, feat_channels=32),
    roi_head=dict(bbox_roi_extractor=dict(out_channels=32)))
runner = dict(type='EpochBasedRunner', max_epochs=1)
log_config = dict(interval=1, hooks=[dict(type='TextLoggerHook')])
'''


@pytest.mark.slow
def test_cascade_heads_follow_four_classes_through_the_cli(tree):
    """The seed's setup: 4 classes in the dataset config, Cascade R-CNN's heads untouched."""
    four = (*CLASSES, "star")
    for split in ("train0.json", "val0.json"):
        coco = json.loads((tree / "data" / split).read_text())
        coco["categories"].append(dict(id=4, name="star"))
        coco["annotations"][0]["category_id"] = 4
        (tree / "data" / split).write_text(json.dumps(coco))
    me = tree / "configs" / "_me_"
    dataset = DATASET.format(data_root=(tree / "data").as_posix(), classes=four, flip_ratio=0.5)
    (me / "_base_" / "datasets" / "four.py").write_text(dataset)
    (me / "cascade_four.py").write_text(FOUR)
    heads = [f"model.roi_head.bbox_head.{i}.{key}=32" for i in range(3)
             for key in ("in_channels", "fc_out_channels")]
    run("train.py", "configs/_me_/cascade_four.py", "--work-dir", "work", "--no-validate",
        "--cfg-options", *heads, cwd=tree)
    log = next((tree / "work").glob("*.log")).read_text()
    line = "num_classes 80 -> 4 from data.train.classes (roi_head.bbox_head.0, .1, .2)"
    assert log.count(line) == 1, log[-3000:]
    state = safe_torch_load(tree / "work" / "epoch_1.pth")["state_dict"]
    for i in range(3):
        assert state[f"roi_head.bbox_head.{i}.fc_cls.weight"].shape == (5, 32)
    result = run("test.py", "configs/_me_/cascade_four.py", "work/epoch_1.pth", "--eval", "bbox",
                 "--cfg-options", *heads, cwd=tree)
    assert "bbox_mAP" in result.stdout


@pytest.mark.slow
def test_missing_and_corrupt_images_stop_training_unless_skipped(tree):
    coco = json.loads((tree / "data" / "train0.json").read_text())
    names = [img["file_name"] for img in coco["images"]]
    (tree / "data" / "images" / names[1]).unlink()
    (tree / "data" / "images" / names[2]).write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    text = one_error(run("train.py", FASTER, *SHORT, "--work-dir", "w", cwd=tree, check=False),
                     names[1], names[2], "data.train.skip_invalid_images=True")
    assert "do not exist" in text and "cannot be decoded" in text
    run("train.py", FASTER, *SHORT, "data.train.skip_invalid_images=True", "--work-dir", "w2",
        cwd=tree)
    log = next((tree / "w2").glob("*.log")).read_text()
    assert "skip_invalid_images=True: 2 images dropped from data.train" in log
    assert re.search(r"data check data.train \(CocoDataset, .*\): 4 images", log)


PRETRAINED = '''\
_base_ = './faster_rcnn_r18_fpn_tiny_shapes.py'
model = dict(backbone=dict(init_cfg=dict(
    _delete_=True, type='Pretrained', checkpoint='torchvision://resnet18')))
'''


@pytest.mark.slow
def test_torchvision_weights_are_downloaded_for_training(tree, monkeypatch):
    torch.manual_seed(0)
    served = {"conv1.weight": torch.randn(64, 3, 7, 7), "bn1.weight": torch.rand(64) + 0.5,
              "bn1.bias": torch.randn(64), "bn1.running_mean": torch.randn(64),
              "bn1.running_var": torch.rand(64) + 0.5}
    buffer = io.BytesIO()
    torch.save(served, buffer)
    path = "/download.pytorch.org/models/resnet18-f37072fd.pth"
    (tree / "configs" / "_me_" / "pretrained.py").write_text(PRETRAINED)
    monkeypatch.delenv("DETBOX_OFFLINE", raising=False)
    monkeypatch.setenv("TORCH_HOME", str(tree / "torch"))
    monkeypatch.setenv("DETBOX_CHECK_HASH", "0")  # random weights, not torchvision's file
    with WeightsServer({path: buffer.getvalue()}) as server:
        monkeypatch.setenv("DETBOX_WEIGHTS_MIRROR", server.url)
        run("train.py", "configs/_me_/pretrained.py", *SHORT, "--work-dir", "w", cwd=tree)
        assert server.requests == [path]
    cached = tree / "torch" / "hub" / "checkpoints" / "resnet18-f37072fd.pth"
    assert cached.is_file()
    state = safe_torch_load(tree / "w" / "epoch_1.pth")["state_dict"]
    # the stem is frozen (frozen_stages=1, norm_eval): it still holds the served weights
    torch.testing.assert_close(state["backbone.conv1.weight"], served["conv1.weight"])
    torch.testing.assert_close(state["backbone.bn1.running_mean"], served["bn1.running_mean"])
    log = next((tree / "w").glob("*.log")).read_text()
    assert "torchvision://resnet18" in log and Path(cached).name in log
