"""The tiny Deformable DETR trains through ``tools/train.py`` on generated shapes: the recipe
(AdamW with lr multipliers, grad clip 0.1, the scaled-down AutoAugment pipeline) runs and the
loss falls."""

from __future__ import annotations

import pytest

from tests.conftest import REPO
from tests.tools.cli_helpers import json_logs, log_entries, run
from tests.tools.shapes_fixture import make_shapes

CONFIG = '''\
_base_ = '{base}'
classes = ('rectangle', 'ellipse', 'triangle')
data = dict(
    samples_per_gpu=2, workers_per_gpu=0,
    train=dict(classes=classes, ann_file='data/train0.json', img_prefix='data/images/'),
    val=dict(classes=classes, ann_file='data/val0.json', img_prefix='data/images/'),
    test=dict(classes=classes, ann_file='data/val0.json', img_prefix='data/images/'))
model = dict(bbox_head=dict(num_classes=3))
runner = dict(max_epochs=6)
optimizer = dict(lr=0.001)
evaluation = dict(interval=100)
checkpoint_config = dict(interval=100)
log_config = dict(interval=1, hooks=[dict(type='TextLoggerHook')])
'''
EPOCHS, ITERS = 6, 4  # 8 images, 2 per batch


@pytest.mark.slow
def test_tiny_deformable_detr_loss_falls(tmp_path):
    make_shapes(tmp_path / "data", num_train=8, num_val=4)
    base = REPO / "configs" / "deformable_detr" / "deformable_detr_r18_tiny_50e_coco.py"
    (tmp_path / "tiny.py").write_text(CONFIG.format(base=base.as_posix()))
    run("train.py", "tiny.py", "--work-dir", "wd", "--seed", "0", cwd=tmp_path)
    train = log_entries(json_logs(tmp_path / "wd")[0], "train")
    assert [(e["epoch"], e["iter"]) for e in train] == [
        (epoch, i) for epoch in range(1, EPOCHS + 1) for i in range(1, ITERS + 1)]
    for key in ("loss_cls", "loss_bbox", "loss_iou", "d0.loss_cls", "grad_norm", "lr"):
        assert all(key in e for e in train), key
    means = [sum(e["loss"] for e in train if e["epoch"] == epoch) / ITERS
             for epoch in range(1, EPOCHS + 1)]
    assert means[-1] < 0.8 * means[0], means
