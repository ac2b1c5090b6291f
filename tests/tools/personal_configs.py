"""A user's personal config folder, as the seed keeps one: ``configs/_me_/``.

``make_config_tree(tmp, data_root)`` builds ``tmp/configs`` with the repository's
``_base_``, ``faster_rcnn`` and ``cascade_rcnn`` folders linked in, and a real ``_me_``
folder holding:

- ``_base_/datasets/coco_detection.py``: the user's copy of the COCO dataset base, with their
  own ``classes``, ``data_root``, ``train0.json`` / ``val0.json`` and a small ``img_scale``;
- ``faster_rcnn_r18_fpn_tiny_shapes.py``: the seed's usual layout (model, own dataset,
  schedule and runtime bases), with the tiny Faster R-CNN's model settings;
- ``cascade_rcnn_r18_fpn_tiny_shapes.py``: inherits the repository's tiny Cascade R-CNN
  config and replaces its data section (MMDetection's customised-dataset recipe). A config
  cannot take both the tiny config and the own dataset base as bases: they share top-level
  keys (``data``, ``dataset_type``...), which v2's config rules forbid among bases.

Both train 3 epochs with ``evaluation = dict(interval=1, metric='bbox', classwise=True,
save_best='bbox_mAP_50')`` and ``checkpoint_config = dict(max_keep_ckpts=1, interval=1)``.
"""

from __future__ import annotations

import os
from pathlib import Path

from tests.conftest import REPO
from tests.tools.shapes_fixture import CLASSES

DATASET = '''\
# My copy of configs/_base_/datasets/coco_detection.py: my shapes, 96 px images.
dataset_type = 'CocoDataset'
data_root = '{data_root}/'
classes = {classes!r}
img_norm_cfg = dict(
    mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', img_scale=(96, 96), keep_ratio=True),
    dict(type='RandomFlip', flip_ratio={flip_ratio}),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='Pad', size_divisor=32),
    dict(type='DefaultFormatBundle'),
    dict(type='Collect', keys=['img', 'gt_bboxes', 'gt_labels']),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='MultiScaleFlipAug',
        img_scale=(96, 96),
        flip=False,
        transforms=[
            dict(type='Resize', keep_ratio=True),
            dict(type='RandomFlip'),
            dict(type='Normalize', **img_norm_cfg),
            dict(type='Pad', size_divisor=32),
            dict(type='ImageToTensor', keys=['img']),
            dict(type='Collect', keys=['img']),
        ])
]
data = dict(
    samples_per_gpu=2,
    workers_per_gpu=0,
    train=dict(
        type=dataset_type,
        classes=classes,
        ann_file=data_root + 'train0.json',
        img_prefix=data_root + 'images/',
        pipeline=train_pipeline),
    val=dict(
        type=dataset_type,
        classes=classes,
        ann_file=data_root + 'val0.json',
        img_prefix=data_root + 'images/',
        pipeline=test_pipeline),
    test=dict(
        type=dataset_type,
        classes=classes,
        ann_file=data_root + 'val0.json',
        img_prefix=data_root + 'images/',
        pipeline=test_pipeline))
evaluation = dict(interval=1, metric='bbox')
'''

SCHEDULE = '''\
optimizer = dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=0.0001)
lr_config = dict(policy='step', warmup='linear', warmup_iters=4, warmup_ratio=0.1, step=[8])
runner = dict(type='EpochBasedRunner', max_epochs={epochs})
evaluation = dict(interval=1, metric='bbox', classwise=True, save_best='bbox_mAP_50')
checkpoint_config = dict(max_keep_ckpts=1, interval=1)
log_config = dict(interval=1, hooks=[dict(type='TextLoggerHook')])
'''

FASTER = '''\
_base_ = [
    '../_base_/models/faster_rcnn_r50_fpn.py',
    './_base_/datasets/coco_detection.py',
    '../_base_/schedules/schedule_1x.py', '../_base_/default_runtime.py'
]
# the model settings of ../faster_rcnn/faster_rcnn_r18_fpn_tiny_1x_coco.py, for my 3 classes
model = dict(
    backbone=dict(depth=18, init_cfg=None),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=64),
    rpn_head=dict(in_channels=64, feat_channels=64),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=64),
        bbox_head=dict(in_channels=64, fc_out_channels=128, num_classes={num_classes})))
'''

CASCADE = '''\
_base_ = '../cascade_rcnn/cascade_rcnn_r18_fpn_tiny_1x_coco.py'


def head(stds):
    return dict(
        type='Shared2FCBBoxHead', in_channels=64, fc_out_channels=128, roi_feat_size=7,
        num_classes={num_classes},
        bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[0., 0., 0., 0.],
                        target_stds=stds),
        reg_class_agnostic=True,
        loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
        loss_bbox=dict(type='SmoothL1Loss', beta=1.0, loss_weight=1.0))


model = dict(roi_head=dict(bbox_head=[
    head([0.1, 0.1, 0.2, 0.2]), head([0.05, 0.05, 0.1, 0.1]),
    head([0.033, 0.033, 0.067, 0.067])]))
'''

# For comparing a 2-process run with a 1-process run of the same total batch: every anchor and
# every proposal is a training sample (no random draws), and each image has the same number
# of samples (no IoU band is ignored; exactly 256 proposals per image; no ground truth added as
# proposals), so the loss of a 2-image batch is the mean of the two images' losses, which is
# what DDP's gradient averaging and the cross-rank mean of the logged losses compute.
DETERMINISTIC = '''\
_base_ = './faster_rcnn_r18_fpn_tiny_shapes.py'
model = dict(train_cfg=dict(
    rpn=dict(assigner=dict(neg_iou_thr=0.7), sampler=dict(num=100000)),
    rpn_proposal=dict(max_per_img=256, nms=dict(iou_threshold=1.0)),
    rcnn=dict(sampler=dict(num=100000, add_gt_as_proposals=False))))
data = dict(train_dataloader=dict(shuffle=False))
'''


def _link(src: Path, dst: Path) -> None:
    if not dst.exists():
        os.symlink(src, dst, target_is_directory=src.is_dir())


def _cascade_data_section(dataset_text: str) -> str:
    """The dataset base's settings, to paste into a config that inherits another dataset."""
    return dataset_text.split("\n", 1)[1]


def make_config_tree(tmp: str | Path, data_root: str | Path, epochs: int = 3,
                     flip_ratio: float = 0.5) -> Path:
    """Build ``tmp/configs`` (see the module docstring); returns ``tmp/configs/_me_``."""
    configs = Path(tmp) / "configs"
    me = configs / "_me_"
    (me / "_base_" / "datasets").mkdir(parents=True, exist_ok=True)
    for name in ("_base_", "faster_rcnn", "cascade_rcnn"):
        _link(REPO / "configs" / name, configs / name)
    dataset = DATASET.format(data_root=Path(data_root).as_posix(), classes=CLASSES,
                             flip_ratio=flip_ratio)
    (me / "_base_" / "datasets" / "coco_detection.py").write_text(dataset)
    schedule = SCHEDULE.format(epochs=epochs)
    (me / "faster_rcnn_r18_fpn_tiny_shapes.py").write_text(
        FASTER.format(num_classes=len(CLASSES)) + schedule)
    cascade = CASCADE.format(num_classes=len(CLASSES))
    (me / "cascade_rcnn_r18_fpn_tiny_shapes.py").write_text(
        cascade + _cascade_data_section(dataset).replace("evaluation = dict(interval=1, "
                                                         "metric='bbox')\n", "") + schedule)
    (me / "faster_rcnn_r18_fpn_tiny_shapes_nosampling.py").write_text(DETERMINISTIC)
    return me
