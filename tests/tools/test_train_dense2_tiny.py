"""YOLOF's tiny config trains through ``tools/train.py`` on generated shapes.

A child config inherits the repository's tiny config and replaces its data section with the
shapes (96 px); a few iterations with the log written every iteration: the loss falls.
"""

from __future__ import annotations

import pytest

from tests.conftest import REPO
from tests.tools.cli_helpers import json_logs, log_entries, run
from tests.tools.shapes_fixture import CLASSES, make_shapes

CHILD = '''\
_base_ = '{base}'
model = dict(bbox_head=dict(num_classes={num_classes}))
data_root = '{data_root}/'
classes = {classes!r}
img_norm_cfg = dict(
    mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
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
    samples_per_gpu=4,
    workers_per_gpu=0,
    train=dict(_delete_=True, type='CocoDataset', classes=classes,
               ann_file=data_root + 'train0.json', img_prefix=data_root + 'images/',
               pipeline=train_pipeline))
optimizer = dict(_delete_=True, type='SGD', lr={lr}, momentum=0.9, weight_decay=0.0001)
optimizer_config = dict(_delete_=True, grad_clip=dict(max_norm=10, norm_type=2))
lr_config = dict(_delete_=True, policy='fixed')
runner = dict(_delete_=True, type='EpochBasedRunner', max_epochs={epochs})
workflow = [('train', 1)]
evaluation = dict(interval=1000)
checkpoint_config = dict(interval=1000)
log_config = dict(interval=1, hooks=[dict(type='TextLoggerHook')])
'''


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    root = tmp_path_factory.mktemp("dense2_tiny")
    make_shapes(root / "data", num_train=8, num_val=1, max_shapes=1)
    return root


@pytest.mark.slow
def test_tiny_yolof_trains_and_the_loss_falls(shapes):
    base, lr = "yolof/yolof_r18_c5_tiny_1x_coco.py", 0.01
    name = base.split("/")[1].replace(".py", "")
    config = shapes / f"{name}_shapes.py"
    config.write_text(CHILD.format(base=REPO / "configs" / base, num_classes=len(CLASSES),
                                   data_root=shapes / "data", classes=CLASSES, lr=lr,
                                   epochs=4))
    work_dir = shapes / "work" / name
    run("train.py", config, "--work-dir", work_dir, "--seed", "0", "--no-validate",
        cwd=shapes)
    train = log_entries(json_logs(work_dir)[-1], "train")
    assert len(train) == 8  # 4 epochs of 2 batches
    losses = [e["loss"] for e in train]
    assert all(loss == loss and loss > 0 for loss in losses)  # finite, positive
    first, last = sum(losses[:2]) / 2, sum(losses[-2:]) / 2
    assert last < 0.9 * first, losses
