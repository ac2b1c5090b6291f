"""Two processes (``tools/dist_train.sh``: torchrun, gloo on the CPU) against one process with
the same total batch; ``tools/dist_test.sh`` against ``tools/test.py``.

What must match, and why it can match exactly: the run uses the personal config with random
sampling turned into "use every anchor and proposal" with the same number per image
(``faster_rcnn_r18_fpn_tiny_shapes_nosampling.py``), no random flip, no shuffling and the same
seed. Then the loss of a 2-image batch is the mean of the two images' losses, which is what
DistributedDataParallel's gradient averaging and the cross-rank mean of the logged losses
compute; BatchNorm is frozen (``norm_eval``), so splitting the batch changes nothing else. One
process with ``samples_per_gpu=2`` sees images (2k, 2k+1) at step k; two processes with one
image each see 2k (rank 0) and 2k+1 (rank 1). The logged losses agree to the log's 5 decimals
over a whole epoch (differences come from float summation order only), and so do the weights.
"""

from __future__ import annotations

import pickle
import socket
import subprocess
import sys

import numpy as np
import pytest
import torch

from tests.conftest import REPO
from tests.tools.cli_helpers import json_logs, log_entries, printed_metrics, run, tool_env
from tests.tools.personal_configs import make_config_tree
from tests.tools.shapes_fixture import make_shapes

CONFIG = "configs/_me_/faster_rcnn_r18_fpn_tiny_shapes_nosampling.py"
KEYS = ("loss_rpn_cls", "loss_rpn_bbox", "loss_cls", "acc", "loss_bbox", "loss", "lr")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_two_processes_log_the_losses_of_one_process_with_the_same_total_batch(tmp_path):
    make_shapes(tmp_path / "data", num_train=12, num_val=3)
    make_config_tree(tmp_path, tmp_path / "data", flip_ratio=0.0)
    common = ["--seed", "0", "--no-validate", "--cfg-options", "runner.max_epochs=1"]
    run("train.py", CONFIG, "--work-dir", "single", *common, "data.samples_per_gpu=2",
        cwd=tmp_path)
    env = tool_env()
    env.update(PORT=str(_free_port()), PYTHON=sys.executable)
    dist = subprocess.run(["bash", str(REPO / "tools" / "dist_train.sh"), CONFIG, "2",
                           "--work-dir", "dist", *common, "data.samples_per_gpu=1"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert dist.returncode == 0, dist.stderr[-3000:]
    assert "Distributed training: True" in dist.stderr

    single_log = log_entries(json_logs(tmp_path / "single")[0], "train")
    dist_logs = json_logs(tmp_path / "dist")
    assert len(dist_logs) == 1  # only rank 0 writes logs
    dist_log = log_entries(dist_logs[0], "train")
    assert [e["iter"] for e in dist_log] == [e["iter"] for e in single_log] == list(range(1, 7))
    for one, two in zip(single_log, dist_log):
        for key in KEYS:
            # the JSON log rounds to 5 decimals: allow one unit in the last place
            assert two[key] == pytest.approx(one[key], rel=1e-4, abs=2e-5), (one["iter"], key)

    single = torch.load(tmp_path / "single" / "epoch_1.pth", map_location="cpu",
                        weights_only=False)["state_dict"]
    dist_ckpt = torch.load(tmp_path / "dist" / "epoch_1.pth", map_location="cpu",
                           weights_only=False)["state_dict"]
    assert single.keys() == dist_ckpt.keys()  # no 'module.' prefix from DDP
    for key, value in single.items():
        if value.is_floating_point():
            torch.testing.assert_close(dist_ckpt[key], value, rtol=1e-3, atol=1e-5)

    # tools/dist_test.sh: each rank tests its share (3 images: one rank gets a padded copy);
    # rank 0 gathers them in data set order. All boxes are kept (score_thr=0) to compare.
    env["PORT"] = str(_free_port())
    ckpt = str(tmp_path / "dist" / "epoch_1.pth")
    keep_all = ["--cfg-options", "model.test_cfg.rcnn.score_thr=0.0"]
    two = subprocess.run(["bash", str(REPO / "tools" / "dist_test.sh"), CONFIG, ckpt, "2",
                          "--eval", "bbox", "--out", "two.pkl", *keep_all], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=300)
    assert two.returncode == 0, two.stderr[-3000:]
    one = run("test.py", CONFIG, ckpt, "--eval", "bbox", "--out", "one.pkl", *keep_all,
              cwd=tmp_path)
    assert printed_metrics(two.stdout) == printed_metrics(one.stdout)
    with open(tmp_path / "one.pkl", "rb") as f:
        expected = pickle.load(f)
    with open(tmp_path / "two.pkl", "rb") as f:
        got = pickle.load(f)
    assert len(got) == len(expected) == 3
    assert sum(len(boxes) for image in expected for boxes in image) > 0
    for image_got, image_expected in zip(got, expected):
        for boxes_got, boxes_expected in zip(image_got, image_expected):
            np.testing.assert_allclose(boxes_got, boxes_expected, rtol=1e-4, atol=1e-3)
