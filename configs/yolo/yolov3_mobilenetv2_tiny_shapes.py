# A tiny YOLOv3 for tests and CPU experiments: the MobileNetV2 YOLOv3 at a quarter of its
# backbone width (widen_factor 0.25), a 32-channel neck and head, anchors scaled to 96 px
# inputs, on the generated shapes data (tools/misc/make_shapes.py: data/shapes/, 5 classes)
# over 12 short epochs. Changed for a from-scratch model this small: AdamW instead of SGD,
# no Expand / MinIoURandomCrop / PhotoMetricDistortion, a short warm-up.
_base_ = './yolov3_mobilenetv2_320_300e_coco.py'

img_scale = (96, 96)
classes = ('circle', 'square', 'triangle', 'star', 'cross')
model = dict(
    backbone=dict(widen_factor=0.25, init_cfg=None),
    neck=dict(in_channels=[80, 24, 8], out_channels=[32, 32, 32]),
    bbox_head=dict(
        num_classes=len(classes),
        in_channels=[32, 32, 32],
        out_channels=[32, 32, 32],
        anchor_generator=dict(
            base_sizes=[[(48, 32), (32, 48), (64, 64)],
                        [(16, 24), (24, 16), (32, 32)],
                        [(8, 8), (12, 12), (16, 16)]])))

data_root = 'data/shapes/'
img_norm_cfg = dict(
    mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', img_scale=img_scale, keep_ratio=True),
    dict(type='RandomFlip', flip_ratio=0.5),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='Pad', size_divisor=32),
    dict(type='DefaultFormatBundle'),
    dict(type='Collect', keys=['img', 'gt_bboxes', 'gt_labels'])
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='MultiScaleFlipAug',
        img_scale=img_scale,
        flip=False,
        transforms=[
            dict(type='Resize', keep_ratio=True),
            dict(type='RandomFlip'),
            dict(type='Normalize', **img_norm_cfg),
            dict(type='Pad', size_divisor=32),
            dict(type='DefaultFormatBundle'),
            dict(type='Collect', keys=['img'])
        ])
]
data = dict(
    samples_per_gpu=4,
    workers_per_gpu=0,
    train=dict(
        _delete_=True,
        type='CocoDataset',
        classes=classes,
        ann_file=data_root + 'annotations/train.json',
        img_prefix=data_root + 'images/',
        pipeline=train_pipeline),
    val=dict(
        classes=classes,
        ann_file=data_root + 'annotations/val.json',
        img_prefix=data_root + 'images/',
        pipeline=test_pipeline),
    test=dict(
        classes=classes,
        ann_file=data_root + 'annotations/val.json',
        img_prefix=data_root + 'images/',
        pipeline=test_pipeline))

optimizer = dict(_delete_=True, type='AdamW', lr=0.005, weight_decay=0.0001)
optimizer_config = dict(grad_clip=dict(max_norm=35, norm_type=2))
lr_config = dict(_delete_=True, policy='step', warmup='linear', warmup_iters=5,
                 warmup_ratio=0.1, step=[100])
runner = dict(type='EpochBasedRunner', max_epochs=12)
evaluation = dict(interval=12, metric=['bbox'])
checkpoint_config = dict(interval=12)
log_config = dict(interval=2, hooks=[dict(type='TextLoggerHook')])
