"""tools/misc/print_config.py, run as a user runs it."""

import subprocess
import sys

import pytest

from detbox.config import Config
from tests.conftest import DATA, REPO

SEED_CONFIGS = [
    "cascade_rcnn/cascade_rcnn_r50_fpn_1x_coco.py",
    "cascade_rcnn/cascade_rcnn_r101_fpn_1x_coco.py",
    "faster_rcnn/faster_rcnn_r50_fpn_1x_coco.py",
    "retinanet/retinanet_r50_fpn_1x_coco.py",
]


def run(*args):
    return subprocess.run([sys.executable, str(REPO / "tools/misc/print_config.py"), *args],
                          capture_output=True, text=True, cwd=REPO)


@pytest.mark.parametrize("rel", SEED_CONFIGS)
def test_seed_configs_print_and_reload(rel, tmp_path):
    result = run(f"configs/{rel}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Config:\n")
    out = tmp_path / "printed.py"
    out.write_text(result.stdout.split("\n", 1)[1])
    assert Config.fromfile(out) == Config.fromfile(REPO / "configs" / rel)


def test_r101_child_overrides_only_the_backbone():
    r50 = Config.fromfile(REPO / "configs" / SEED_CONFIGS[0])
    r101 = Config.fromfile(REPO / "configs" / SEED_CONFIGS[1])
    assert r101.model.backbone.depth == 101
    assert r101.model.backbone.init_cfg.checkpoint == "torchvision://resnet101"
    r101.model.backbone.depth = 50
    r101.model.backbone.init_cfg.checkpoint = "torchvision://resnet50"
    assert r101 == r50


def test_cfg_options_are_applied():
    result = run(f"configs/{SEED_CONFIGS[0]}", "--cfg-options", "model.backbone.depth=18",
                 "data.samples_per_gpu=8", "model.roi_head.bbox_head.0.num_classes=3")
    assert result.returncode == 0, result.stderr
    assert "depth=18" in result.stdout and "samples_per_gpu=8" in result.stdout
    assert "num_classes=3" in result.stdout


@pytest.mark.parametrize("fixture, fix", [
    ("typos/sampels.py", "did you mean 'samples_per_gpu'"),
    ("typos/lr_cofig.py", "did you mean 'lr_config'"),
    ("typos/anchor_scale.py", "did you mean 'scales'"),
])
def test_typos_fail_with_the_fix(fixture, fix):
    result = run(str(DATA / "configs" / fixture))
    assert result.returncode == 1
    assert fix in result.stderr
    assert result.stdout == ""
