"""The tiny PVTv2 RetinaNet (configs/pvt/retinanet_pvtv2_fpn_tiny_1x_coco.py) trains through
``tools/train.py`` on generated shapes, with AdamW, and its loss falls."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import REPO
from tests.tools.cli_helpers import json_logs, log_entries, run
from tests.tools.shapes_fixture import CLASSES, make_shapes

CHILD = '''\
_base_ = '{base}'
model = dict(bbox_head=dict(num_classes=3))
classes = {classes!r}
img_norm_cfg = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', img_scale=(96, 96), keep_ratio=True),
    dict(type='RandomFlip', flip_ratio=0.0),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='Pad', size_divisor=32),
    dict(type='DefaultFormatBundle'),
    dict(type='Collect', keys=['img', 'gt_bboxes', 'gt_labels']),
]
data = dict(
    samples_per_gpu=2, workers_per_gpu=0,
    train=dict(classes=classes, ann_file='{root}/train0.json', img_prefix='{root}/images/',
               pipeline=train_pipeline),
    val=dict(classes=classes, ann_file='{root}/val0.json', img_prefix='{root}/images/'),
    test=dict(classes=classes, ann_file='{root}/val0.json', img_prefix='{root}/images/'))
lr_config = dict(_delete_=True, policy='fixed')
runner = dict(type='EpochBasedRunner', max_epochs=3)
log_config = dict(interval=1, hooks=[dict(type='TextLoggerHook')])
checkpoint_config = dict(interval=3)
'''


@pytest.mark.slow
def test_tiny_pvtv2_retinanet_trains_and_its_loss_falls(tmp_path):
    root = make_shapes(tmp_path / "data", num_train=8, num_val=2)
    cfg = tmp_path / "retinanet_pvtv2_tiny_shapes.py"
    cfg.write_text(CHILD.format(base=REPO / "configs/pvt/retinanet_pvtv2_fpn_tiny_1x_coco.py",
                                classes=CLASSES, root=root))
    work_dir = tmp_path / "work"
    run("train.py", cfg, "--work-dir", work_dir, "--seed", "0", "--no-validate", cwd=tmp_path)
    train = log_entries(json_logs(work_dir)[-1], "train")
    assert len(train) == 12  # 3 epochs of 4 batches
    losses = np.array([e["loss"] for e in train])
    assert np.isfinite(losses).all()
    assert losses[-4:].mean() < 0.8 * losses[:4].mean(), losses
    assert (work_dir / "latest.pth").exists()
