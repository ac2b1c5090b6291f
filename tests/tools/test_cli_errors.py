"""Mistakes a user makes on the command line get one clear message and a non-zero exit,
not a traceback, and leave the work dir alone."""

from __future__ import annotations

import pytest

from tests.tools.cli_helpers import run
from tests.tools.personal_configs import make_config_tree
from tests.tools.shapes_fixture import make_shapes

CONFIG = "configs/_me_/faster_rcnn_r18_fpn_tiny_shapes.py"


@pytest.fixture
def tree(tmp_path):
    make_shapes(tmp_path / "data", num_train=2, num_val=1)
    make_config_tree(tmp_path, tmp_path / "data")
    return tmp_path


def _assert_one_error(result, *needles):
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr[-2000:]
    for needle in needles:
        assert needle in result.stderr, result.stderr[-2000:]


def test_config_typo_names_the_key_and_the_fix_before_touching_the_work_dir(tree):
    result = run("train.py", CONFIG, "--work-dir", "work", "--cfg-options",
                 "model.rpn_head.anchor_generator.scale=[8]", cwd=tree, check=False)
    _assert_one_error(result, "model.rpn_head.anchor_generator", "did you mean 'scales'")
    assert not (tree / "work").exists()


def test_typo_in_a_config_file_section(tree):
    config = tree / "configs" / "_me_" / "typo.py"
    config.write_text("_base_ = './faster_rcnn_r18_fpn_tiny_shapes.py'\n"
                      "lr_cofig = dict(policy='step', step=[2])\n")
    result = run("train.py", str(config), cwd=tree, check=False)
    _assert_one_error(result, "lr_cofig", "did you mean 'lr_config'")
    assert not (tree / "work_dirs").exists()


def test_missing_config_and_missing_checkpoint(tree):
    _assert_one_error(run("train.py", "configs/_me_/nope.py", cwd=tree, check=False),
                      "config file not found: configs/_me_/nope.py")
    _assert_one_error(run("test.py", CONFIG, "work/latest.pth", "--eval", "bbox", cwd=tree,
                          check=False), "checkpoint file not found: work/latest.pth")
    _assert_one_error(run("train.py", CONFIG, "--resume-from", "work/latest.pth", cwd=tree,
                          check=False), "checkpoint file not found: work/latest.pth")


def test_test_tool_option_mistakes(tree):
    (tree / "fake.pth").write_bytes(b"not a checkpoint")
    _assert_one_error(run("test.py", CONFIG, "fake.pth", cwd=tree, check=False),
                      "nothing to do", "--eval")
    _assert_one_error(run("test.py", CONFIG, "fake.pth", "--out", "res.json", cwd=tree,
                          check=False), "--out must name a .pkl")
    _assert_one_error(run("test.py", CONFIG, "fake.pth", "--eval", "bbox", cwd=tree,
                          check=False), "could not read checkpoint", "fake.pth")
