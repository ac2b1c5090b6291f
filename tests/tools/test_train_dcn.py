"""The tiny Faster R-CNN with DCNv2 in its ResNet-50 trains on generated shapes through
``tools/train.py``.

4 training images (96 px, 3 classes), batch 2, 6 epochs of 2 iterations, no warmup, logging
every iteration: the loss of the last two epochs is below that of the first two, and the
deformable convs' offset predictors, which start at zero (a plain conv with half weights), have
learned (non-zero ``conv_offset`` weights in the saved checkpoint).
"""

from __future__ import annotations

import torch

from tests.conftest import REPO
from tests.tools.cli_helpers import json_logs, log_entries, run
from tests.tools.shapes_fixture import CLASSES, make_shapes

BASE = REPO / "configs" / "dcnv2" / "faster_rcnn_r50_fpn_mdconv_c4-c5_tiny_1x_coco.py"
CHILD = '''\
_base_ = '{base}'
model = dict(roi_head=dict(bbox_head=dict(num_classes=3)))
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
    samples_per_gpu=2,
    workers_per_gpu=0,
    train=dict(type='CocoDataset', classes=classes, ann_file='{data}/train0.json',
               img_prefix='{data}/images/', pipeline=train_pipeline),
    val=dict(type='CocoDataset', classes=classes, ann_file='{data}/val0.json',
             img_prefix='{data}/images/'),
    test=dict(type='CocoDataset', classes=classes, ann_file='{data}/val0.json',
              img_prefix='{data}/images/'))
optimizer = dict(lr=0.02)
lr_config = dict(warmup=None)
runner = dict(type='EpochBasedRunner', max_epochs=6)
log_config = dict(interval=1)
'''


def test_tiny_dcnv2_faster_rcnn_trains(tmp_path):
    data = make_shapes(tmp_path / "data", num_train=4, num_val=1)
    config = tmp_path / "faster_rcnn_dcnv2_tiny_shapes.py"
    config.write_text(CHILD.format(base=BASE, classes=CLASSES, data=data))
    run("train.py", config, "--work-dir", tmp_path / "work", "--seed", "0", "--no-validate",
        cwd=tmp_path)
    (log,) = json_logs(tmp_path / "work")
    entries = log_entries(log, "train")
    assert [(e["epoch"], e["iter"]) for e in entries] == [
        (epoch, i) for epoch in range(1, 7) for i in (1, 2)]
    losses = [e["loss"] for e in entries]
    assert sum(losses[-4:]) < sum(losses[:4]), losses
    state = torch.load(tmp_path / "work" / "latest.pth", weights_only=True)["state_dict"]
    offsets = [k for k in state if k.endswith("conv2.conv_offset.weight")]
    assert len(offsets) == 6 + 3 and all(k.startswith(("backbone.layer3.", "backbone.layer4."))
                                         for k in offsets)
    assert all(state[k].abs().sum() > 0 for k in offsets)
