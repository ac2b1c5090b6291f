"""A tiny Mask R-CNN learns the synthetic shapes' masks through tools/train.py, and
tools/test.py draws filled masks (segm evaluation, save_best='segm_mAP', --show-dir)."""

import cv2
import numpy as np
import pytest

from detbox.datasets.synthetic_shapes import ShapesSettings, make_shapes_dataset
from tests.conftest import REPO
from tests.tools.cli_helpers import json_logs, log_entries, printed_metrics, run

CONFIG = REPO / "configs" / "mask_rcnn" / "mask_rcnn_mobilenetv2_fpn_tiny_shapes.py"


@pytest.mark.slow
def test_mask_rcnn_learns_masks_and_draws_them(tmp_path):
    settings = ShapesSettings(min_size=96, max_size=128, max_objects=3, min_object_frac=0.25,
                              max_object_frac=0.6)
    make_shapes_dataset(tmp_path / "data" / "shapes", num_train=64, num_val=12, seed=3,
                        settings=settings)
    run("train.py", CONFIG, "--work-dir", "work", "--seed", "0", "--cfg-options",
        "runner.max_epochs=6", "lr_config.step=[10]", "evaluation.interval=3", cwd=tmp_path,
        timeout=900)
    work = tmp_path / "work"
    val = log_entries(json_logs(work)[0], "val")
    assert [e["epoch"] for e in val] == [3, 6]
    for key in ("bbox_mAP", "segm_mAP", "segm_mAP_50", "segm_mAP_copypaste"):
        assert key in val[-1], key
    best = max(e["segm_mAP"] for e in val)
    assert best > 0.05, f"segm_mAP stayed at {[e['segm_mAP'] for e in val]}"
    best_files = sorted(p.name for p in work.glob("best_segm_mAP_epoch_*.pth"))
    assert len(best_files) == 1

    out = run("test.py", CONFIG, work / best_files[0], "--eval", "bbox", "segm",
              "--show-dir", "shown", "--show-score-thr", "0.1",
              cwd=tmp_path, timeout=300)
    metrics = printed_metrics(out.stdout)
    assert metrics["segm_mAP"] == pytest.approx(best, abs=1e-4)
    pictures = sorted((tmp_path / "shown").glob("*.jpg"))
    assert len(pictures) == 12
    changed = []
    for picture in pictures:
        drawn = cv2.imread(str(picture))
        source = cv2.imread(str(tmp_path / "data" / "shapes" / "images" / picture.name))
        assert drawn.shape == source.shape
        changed.append((np.abs(drawn.astype(int) - source.astype(int)).sum(2) > 30).mean())
    assert max(changed) > 0.03, changed  # filled masks, not only box outlines and labels
