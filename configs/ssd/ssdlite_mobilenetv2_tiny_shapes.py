# A tiny SSDLite for tests and CPU experiments: ssdlite_mobilenetv2's model (MobileNetV2 with
# the depthwise SSDNeck and SSDHead, ReLU6, hard negative mining) with a 0.35-wide
# MobileNetV2 from scratch, thinner extra levels, 96 px inputs and anchors scaled from 320 to
# 96 px, on the generated shapes data (tools/misc/make_shapes.py: data/shapes/, 5 classes).
# Changed for a model this small trained this briefly: no Expand / MinIoURandomCrop /
# photometric distortion, batch 4, Adam lr 2e-3 (SGD at lr 0.03 was unstable here) with a
# 10-iteration warmup and gradient clipping, 16 epochs with a step at 14.
_base_ = './ssdlite_mobilenetv2_scratch_600e_coco.py'

classes = ('circle', 'square', 'triangle', 'star', 'cross')
model = dict(
    backbone=dict(widen_factor=0.35),
    neck=dict(in_channels=(32, 1280), out_channels=(32, 1280, 128, 64, 64, 32)),
    bbox_head=dict(
        in_channels=(32, 1280, 128, 64, 64, 32),
        num_classes=len(classes),
        anchor_generator=dict(
            strides=[16, 32, 48, 96, 96, 96],
            min_sizes=[14, 30, 45, 61, 76, 91],
            max_sizes=[30, 45, 61, 76, 91, 96])),
    test_cfg=dict(score_thr=0.02, max_per_img=100))
img_norm_cfg = dict(
    mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', img_scale=(96, 96), keep_ratio=False),
    dict(type='RandomFlip', flip_ratio=0.5),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='Pad', size_divisor=96),
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
            dict(type='Resize', keep_ratio=False),
            dict(type='Normalize', **img_norm_cfg),
            dict(type='Pad', size_divisor=96),
            dict(type='ImageToTensor', keys=['img']),
            dict(type='Collect', keys=['img']),
        ])
]
data_root = 'data/shapes/'
data = dict(
    samples_per_gpu=4,
    workers_per_gpu=1,
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
optimizer = dict(_delete_=True, type='Adam', lr=0.002)
optimizer_config = dict(_delete_=True, grad_clip=dict(max_norm=35, norm_type=2))
lr_config = dict(_delete_=True, policy='step', warmup='linear', warmup_iters=10,
                 warmup_ratio=0.001, step=[14])
runner = dict(max_epochs=16)
checkpoint_config = dict(interval=16, max_keep_ckpts=1)
evaluation = dict(interval=16, metric='bbox')
log_config = dict(interval=2)
auto_scale_lr = dict(base_batch_size=4)
