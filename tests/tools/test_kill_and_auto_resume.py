"""A training process killed mid-epoch (SIGKILL) continues with ``--auto-resume``."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
import torch

from detbox.engine import find_latest_checkpoint, is_valid_checkpoint
from tests.tools.cli_helpers import json_logs, log_entries, run, tool_cmd, tool_env
from tests.tools.personal_configs import make_config_tree
from tests.tools.shapes_fixture import make_shapes

CONFIG = "configs/_me_/faster_rcnn_r18_fpn_tiny_shapes.py"
ITERS_PER_EPOCH = 6  # 12 training images, 2 per batch


def _wait_for_epoch_two(proc: subprocess.Popen, work_dir, timeout: float = 240) -> int:
    """Poll the JSON log until epoch 2 has logged two iterations; returns how many it has."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"training ended (status {proc.returncode}) before the kill")
        logs = json_logs(work_dir)
        if logs:
            try:
                done = [e for e in log_entries(logs[0], "train") if e["epoch"] == 2]
            except ValueError:  # a line being written
                done = []
            if len(done) >= 2:
                return len(done)
        time.sleep(0.05)
    raise AssertionError("epoch 2 did not start in time")


@pytest.mark.slow
def test_sigkill_mid_epoch_then_auto_resume_finishes_and_loses_nothing(tmp_path):
    make_shapes(tmp_path / "data", num_train=12, num_val=4)
    make_config_tree(tmp_path, tmp_path / "data")
    work_dir = tmp_path / "work"
    proc = subprocess.Popen(tool_cmd("train.py", CONFIG, "--work-dir", "work", "--seed", "0"),
                            cwd=tmp_path, env=tool_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        logged = _wait_for_epoch_two(proc, work_dir)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert logged < ITERS_PER_EPOCH, "the kill came too late: epoch 2 had finished"
    assert sorted(p.name for p in work_dir.glob("epoch_*.pth")) == ["epoch_1.pth"]
    assert find_latest_checkpoint(str(work_dir)) == str(work_dir / "epoch_1.pth")
    first_log = json_logs(work_dir)[0]
    before = log_entries(first_log)

    result = run("train.py", CONFIG, "--work-dir", "work", "--seed", "0", "--auto-resume",
                 cwd=tmp_path)
    assert f"resumed epoch 1, iter {ITERS_PER_EPOCH}" in result.stderr

    # the killed run's logs are kept as they were; the new run has its own
    logs = json_logs(work_dir)
    assert logs[0] == first_log and log_entries(first_log) == before
    assert len(logs) == 2
    train = log_entries(logs[1], "train")
    assert [(e["epoch"], e["iter"]) for e in train] == [
        (epoch, i) for epoch in (2, 3) for i in range(1, ITERS_PER_EPOCH + 1)]
    assert [e["epoch"] for e in log_entries(logs[1], "val")] == [2, 3]

    # every checkpoint left is complete; no temporary file of an interrupted save remains
    names = sorted(p.name for p in work_dir.iterdir() if p.suffix == ".pth" or ".tmp" in p.name)
    assert not [n for n in names if ".tmp" in n]
    assert "epoch_3.pth" in names and "latest.pth" in names
    for name in names:
        assert is_valid_checkpoint(str(work_dir / name)), name
    meta = torch.load(work_dir / "latest.pth", map_location="cpu", weights_only=False)["meta"]
    assert (meta["epoch"], meta["iter"]) == (3, 3 * ITERS_PER_EPOCH)
    bests = [n for n in names if n.startswith("best_")]
    assert len(bests) <= 1  # none if the model never scored, else exactly one
