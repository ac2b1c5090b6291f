"""The seed's daily workflow through the command line, on generated shapes.

A personal config folder (``configs/_me_/``, see ``personal_configs.py``) with its own
dataset base; ``tools/train.py`` for 3 epochs with ``classwise=True``,
``save_best='bbox_mAP_50'`` and ``max_keep_ckpts=1``; ``--resume-from latest.pth`` with
``runner.max_epochs=4``; ``tools/test.py --eval bbox``; the log analysis tool on the logs.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

from detbox.config import Config
from detbox.engine import is_valid_checkpoint
from tests.tools.cli_helpers import json_logs, log_entries, printed_metrics, run
from tests.tools.personal_configs import make_config_tree
from tests.tools.shapes_fixture import CLASSES, make_shapes

FASTER = "configs/_me_/faster_rcnn_r18_fpn_tiny_shapes.py"
CASCADE = "configs/_me_/cascade_rcnn_r18_fpn_tiny_shapes.py"
ITERS_PER_EPOCH = 12  # 24 training images, 2 per batch


def _checkpoints(work_dir: Path) -> dict[str, list[str]]:
    names = sorted(p.name for p in work_dir.glob("*.pth"))
    return dict(epoch=[n for n in names if n.startswith("epoch_")],
                best=[n for n in names if n.startswith("best_")],
                latest=[n for n in names if n == "latest.pth"])


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Train the personal Faster R-CNN for 3 epochs, then resume it for a 4th."""
    root = tmp_path_factory.mktemp("me")
    make_shapes(root / "data")
    make_config_tree(root, root / "data")
    work_dir = root / "work_dirs" / "faster_rcnn_r18_fpn_tiny_shapes"  # the default
    first = run("train.py", FASTER, "--seed", "0", cwd=root)
    after_three = dict(files=sorted(p.name for p in work_dir.iterdir()),
                       ckpts=_checkpoints(work_dir), logs=json_logs(work_dir))
    resumed = run("train.py", FASTER, "--seed", "0", "--resume-from",
                  str(work_dir / "latest.pth"), "--cfg-options", "runner.max_epochs=4",
                  cwd=root)
    return dict(root=root, work_dir=work_dir, after_three=after_three, first=first,
                resumed=resumed)


@pytest.mark.slow
def test_three_epochs_leave_logs_one_epoch_ckpt_latest_and_one_best(trained):
    state = trained["after_three"]
    work_dir = trained["work_dir"]
    assert state["ckpts"]["epoch"] == ["epoch_3.pth"]  # max_keep_ckpts=1
    assert state["ckpts"]["latest"] == ["latest.pth"]
    assert len(state["ckpts"]["best"]) == 1, state["ckpts"]
    assert "faster_rcnn_r18_fpn_tiny_shapes.py" in state["files"]  # the merged config copy
    assert len(state["logs"]) == 1
    log = state["logs"][0]
    assert (work_dir / log.name.replace(".log.json", ".log")).is_file()

    train = log_entries(log, "train")
    assert [(e["epoch"], e["iter"]) for e in train] == [
        (epoch, i) for epoch in (1, 2, 3) for i in range(1, ITERS_PER_EPOCH + 1)]
    for key in ("lr", "time", "data_time", "loss_rpn_cls", "loss_rpn_bbox", "loss_cls",
                "loss_bbox", "loss"):
        assert all(key in e for e in train), key
    val = log_entries(log, "val")
    assert [e["epoch"] for e in val] == [1, 2, 3]
    for entry in val:
        for name in CLASSES:  # classwise=True puts per-class AP in the log
            assert f"bbox_AP_{name}" in entry
    # the best file is the first epoch with the highest mAP@0.5 (a tie is not an improvement)
    scores = [e["bbox_mAP_50"] for e in val]
    best_epoch = scores.index(max(scores)) + 1
    assert max(scores) > 0, "the tiny model learned nothing in 3 epochs"
    assert state["ckpts"]["best"] == [f"best_bbox_mAP_50_epoch_{best_epoch}.pth"]


@pytest.mark.slow
def test_checkpoints_carry_classes_config_seed_and_resume_at_epoch_four(trained):
    work_dir = trained["work_dir"]
    ckpt = torch.load(work_dir / "epoch_4.pth", map_location="cpu", weights_only=False)
    meta = ckpt["meta"]
    assert tuple(meta["CLASSES"]) == CLASSES
    assert meta["epoch"] == 4 and meta["iter"] == 4 * ITERS_PER_EPOCH
    assert meta["seed"] == 0
    assert "max_keep_ckpts=1" in meta["config"]
    assert "optimizer" in ckpt
    copied = Config.fromfile(work_dir / "faster_rcnn_r18_fpn_tiny_shapes.py")
    assert copied.runner.max_epochs == 4 and copied.resume_from.endswith("latest.pth")

    ckpts = _checkpoints(work_dir)
    assert ckpts["epoch"] == ["epoch_4.pth"] and ckpts["latest"] == ["latest.pth"]
    assert len(ckpts["best"]) == 1
    assert os.path.realpath(work_dir / "latest.pth") == str((work_dir / "epoch_4.pth").resolve())
    logs = json_logs(work_dir)
    assert len(logs) == 2  # the first run's logs are kept
    train = log_entries(logs[1], "train")
    assert {e["epoch"] for e in train} == {4}
    assert (train[0]["epoch"], train[0]["iter"]) == (4, 1)
    assert [e["epoch"] for e in log_entries(logs[1], "val")] == [4]
    assert "resumed epoch 3, iter 36" in trained["resumed"].stderr
    # the LR schedule went on (warm-up is over; no step before epoch 8)
    assert train[0]["lr"] == pytest.approx(0.02)


@pytest.mark.slow
def test_test_tool_prints_the_last_evaluation(trained):
    root, work_dir = trained["root"], trained["work_dir"]
    result = run("test.py", FASTER, str(work_dir / "latest.pth"), "--eval", "bbox",
                 "--work-dir", "eval_out", "--out", "eval_out/results.pkl", "--show-dir",
                 "eval_out/vis", cwd=root)
    metrics = printed_metrics(result.stdout)
    last = log_entries(json_logs(work_dir)[-1], "val")[-1]
    for key in ("bbox_mAP", "bbox_mAP_50", "bbox_mAP_75"):
        assert metrics[key] == pytest.approx(last[key], abs=1e-4), key
    for name in CLASSES:  # classwise from the config's evaluation section
        assert f"bbox_AP_{name}" in metrics
    saved = list((root / "eval_out").glob("eval_*.json"))
    assert len(saved) == 1
    content = json.loads(saved[0].read_text())
    assert content["config"] == FASTER
    assert content["metric"]["bbox_mAP"] == metrics["bbox_mAP"]
    assert (root / "eval_out" / "results.pkl").is_file()
    drawn = sorted(p.name for p in (root / "eval_out" / "vis").iterdir())
    assert drawn == [f"val_{i:03d}.png" for i in range(8)]


@pytest.mark.slow
def test_analyze_logs_plots_losses_and_map_and_times_iterations(trained):
    root, work_dir = trained["root"], trained["work_dir"]
    logs = [str(p) for p in json_logs(work_dir)]
    run("analysis_tools/analyze_logs.py", "plot_curve", logs[0], "--keys", "loss_cls",
        "loss_bbox", "--out", "losses.png", "--title", "losses", cwd=root)
    run("analysis_tools/analyze_logs.py", "plot_curve", *logs, "--keys", "bbox_mAP",
        "--legend", "first", "resumed", "--out", "map.png", cwd=root)
    for name in ("losses.png", "map.png"):
        assert (root / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    result = run("analysis_tools/analyze_logs.py", "cal_train_time", logs[0], cwd=root)
    assert "average iter time:" in result.stdout and "slowest epoch" in result.stdout


@pytest.mark.slow
def test_cascade_rcnn_inheriting_the_tiny_config_trains_and_tests(tmp_path):
    make_shapes(tmp_path / "data", num_train=12, num_val=4)
    make_config_tree(tmp_path, tmp_path / "data")
    run("train.py", CASCADE, "--work-dir", "cascade", "--seed", "0", "--cfg-options",
        "runner.max_epochs=1", cwd=tmp_path)
    work_dir = tmp_path / "cascade"
    assert _checkpoints(work_dir)["epoch"] == ["epoch_1.pth"]
    log = json_logs(work_dir)[0]
    assert len(log_entries(log, "train")) == 6  # 12 images, 2 per batch
    assert all("s2.loss_cls" in e for e in log_entries(log, "train"))  # the third stage
    val = log_entries(log, "val")
    assert [e["epoch"] for e in val] == [1]
    ckpt = work_dir / "latest.pth"
    assert is_valid_checkpoint(str(ckpt))
    result = run("test.py", CASCADE, str(ckpt), "--eval", "bbox", cwd=tmp_path)
    assert printed_metrics(result.stdout)["bbox_mAP"] == pytest.approx(val[-1]["bbox_mAP"],
                                                                      abs=1e-4)
