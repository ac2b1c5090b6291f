"""Checkpoint files: layout, CheckpointHook, latest.pth, atomic writes, find_latest_checkpoint."""

import os

import pytest
import torch
from torch import nn

from detbox.engine import find_latest_checkpoint, save_checkpoint
from detbox.engine.hooks import CheckpointHook, OptimizerHook
from tests.engine.engine_toys import ToyModel, make_runner, toy_batches


class DataParallelWithSteps(nn.DataParallel):
    def train_step(self, *args, **kwargs):
        return self.module.train_step(*args, **kwargs)


def load(path):
    return torch.load(path, map_location="cpu", weights_only=False)


def train(tmp_path, epochs=3, hook=None, meta=None, model=None):
    runner = make_runner(model=model, max_epochs=epochs, work_dir=str(tmp_path),
                         meta=meta if meta is not None else dict(seed=3, config="x = 1",
                                                                 env_info="Python: 3"))
    runner.register_hook(OptimizerHook(), "ABOVE_NORMAL")
    runner.register_hook(hook or CheckpointHook(interval=1))
    runner.run([toy_batches(2)], [("train", 1)])
    return runner


def test_layout_and_meta(tmp_path):
    model = ToyModel()
    model.CLASSES = ("cat", "dog")
    runner = train(tmp_path, epochs=2, model=DataParallelWithSteps(model))
    ckpt = load(tmp_path / "epoch_2.pth")
    assert set(ckpt) == {"meta", "state_dict", "optimizer"}
    meta = ckpt["meta"]
    assert meta["epoch"] == 2 and meta["iter"] == 4  # 2 epochs of 2 iterations done
    assert meta["seed"] == 3 and meta["config"] == "x = 1" and meta["env_info"] == "Python: 3"
    assert meta["CLASSES"] == ("cat", "dog") and "detbox_version" in meta and "time" in meta
    assert meta["hook_msgs"]["last_ckpt"] == str(tmp_path / "epoch_1.pth")
    assert runner.meta["hook_msgs"]["last_ckpt"] == str(tmp_path / "epoch_2.pth")
    assert list(ckpt["state_dict"]) == list(model.state_dict())  # no "module." prefix
    assert ckpt["optimizer"]["state"] and ckpt["optimizer"]["param_groups"][0]["lr"] == 0.1
    assert torch.equal(ckpt["state_dict"]["fc.weight"], model.fc.weight.detach())


def test_max_keep_ckpts_and_latest_symlink(tmp_path):
    train(tmp_path, epochs=4, hook=CheckpointHook(interval=1, max_keep_ckpts=2))
    assert sorted(os.listdir(tmp_path)) == ["epoch_3.pth", "epoch_4.pth", "latest.pth"]
    assert os.path.islink(tmp_path / "latest.pth")
    assert os.readlink(tmp_path / "latest.pth") == "epoch_4.pth"


def test_interval_save_last_and_no_optimizer(tmp_path):
    train(tmp_path, epochs=3, hook=CheckpointHook(interval=2, save_optimizer=False))
    assert sorted(os.listdir(tmp_path)) == ["epoch_2.pth", "epoch_3.pth", "latest.pth"]
    assert "optimizer" not in load(tmp_path / "epoch_3.pth")


def test_iteration_checkpoints(tmp_path):
    runner = make_runner(kind="iter", max_iters=5, work_dir=str(tmp_path))
    runner.register_training_hooks(None, dict(grad_clip=None), dict(interval=2), None)
    runner.run([toy_batches(2)], [("train", 1)])
    assert sorted(os.listdir(tmp_path)) == ["iter_2.pth", "iter_4.pth", "iter_5.pth",
                                            "latest.pth"]
    assert load(tmp_path / "iter_4.pth")["meta"]["iter"] == 3


def test_symlink_failure_falls_back_to_a_copy(tmp_path, monkeypatch):
    def no_symlink(*args, **kwargs):
        raise OSError("symlinks not allowed here")

    monkeypatch.setattr(os, "symlink", no_symlink)
    train(tmp_path, epochs=1)
    latest = tmp_path / "latest.pth"
    assert latest.is_file() and not latest.is_symlink()
    assert latest.read_bytes() == (tmp_path / "epoch_1.pth").read_bytes()


def test_failed_save_leaves_previous_files_intact(tmp_path, monkeypatch):
    runner = train(tmp_path, epochs=1)
    before = (tmp_path / "epoch_1.pth").read_bytes()
    real_save = torch.save

    def crash_midway(obj, f, *args, **kwargs):
        f.write(b"PK\x03\x04 half a checkpoint")
        raise OSError("No space left on device")

    monkeypatch.setattr(torch, "save", crash_midway)
    with pytest.raises(OSError, match="No space left"):
        runner.save_checkpoint(str(tmp_path))
    monkeypatch.setattr(torch, "save", real_save)
    assert sorted(os.listdir(tmp_path)) == ["epoch_1.pth", "latest.pth"]  # no temp file left
    assert os.readlink(tmp_path / "latest.pth") == "epoch_1.pth"
    assert (tmp_path / "latest.pth").read_bytes() == before
    assert load(tmp_path / "latest.pth")["meta"]["epoch"] == 1


def test_find_latest_checkpoint_skips_a_truncated_one(tmp_path, caplog):
    assert find_latest_checkpoint(str(tmp_path / "missing")) is None
    assert find_latest_checkpoint(str(tmp_path)) is None
    model = ToyModel()
    for epoch in (1, 2, 10):
        save_checkpoint(model, str(tmp_path / f"epoch_{epoch}.pth"), meta=dict(epoch=epoch))
    assert find_latest_checkpoint(str(tmp_path)) == str(tmp_path / "epoch_10.pth")
    data = (tmp_path / "epoch_10.pth").read_bytes()
    (tmp_path / "epoch_10.pth").write_bytes(data[: len(data) // 2])
    (tmp_path / "notes.pth").write_bytes(b"not a checkpoint")
    assert find_latest_checkpoint(str(tmp_path)) == str(tmp_path / "epoch_2.pth")
    assert "skipping" in caplog.text and "epoch_10.pth" in caplog.text


def test_checkpoint_hook_argument_checks():
    assert CheckpointHook(interval=1, meta=dict(CLASSES=("a",))).args == dict(
        meta=dict(CLASSES=("a",)))
    with pytest.raises(TypeError, match="unexpected argument 'intervall'.*did you mean 'interval'"):
        CheckpointHook(intervall=1)
    with pytest.raises(ValueError, match="file_client_args is not supported"):
        CheckpointHook(file_client_args=dict(backend="petrel"))
