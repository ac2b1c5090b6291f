# A small LD for tests and CPU experiments: a ResNet-18 student with a 64-channel FPN and GN
# head at 256 px, distilled from the tiny GFL of configs/gfl/gfl_r18_fpn_tiny_1x_coco.py.
# Train the teacher first (`python tools/train.py configs/gfl/gfl_r18_fpn_tiny_1x_coco.py`
# writes work_dirs/gfl_r18_fpn_tiny_1x_coco/latest.pth), then this config, both from the
# repository root: teacher_config and teacher_ckpt are relative to the working directory.
_base_ = './ld_r18_gflv1_r101_fpn_coco_1x.py'
model = dict(
    teacher_config='configs/gfl/gfl_r18_fpn_tiny_1x_coco.py',
    teacher_ckpt='work_dirs/gfl_r18_fpn_tiny_1x_coco/latest.pth',
    backbone=dict(init_cfg=None),
    neck=dict(out_channels=64),
    bbox_head=dict(in_channels=64, feat_channels=64, stacked_convs=2))
img_norm_cfg = dict(
    mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', img_scale=(256, 192), keep_ratio=True),
    dict(type='RandomFlip', flip_ratio=0.5),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='Pad', size_divisor=32),
    dict(type='DefaultFormatBundle'),
    dict(type='Collect', keys=['img', 'gt_bboxes', 'gt_labels']),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='MultiScaleFlipAug',
        img_scale=(256, 192),
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
    workers_per_gpu=2,
    train=dict(pipeline=train_pipeline),
    val=dict(pipeline=test_pipeline),
    test=dict(pipeline=test_pipeline))
