# A tiny CentripetalNet for tests and CPU experiments: the seed's CentripetalNet recipe (Adam
# with grad clipping, RandomCenterCropPad training crops, flip test merged by soft-NMS) with
# a 2-stack HourglassNet of depth 2 at 16..32 channels, a 16-channel CentripetalHead, 96 px
# crops, on the generated shapes data (tools/misc/make_shapes.py: data/shapes/, 5 classes)
# over 8 short epochs. Changed for a from-scratch model this small: lr 2e-3, a step at epoch
# 6, corner_topk 40 (a 24 x 24 heatmap per class).
_base_ = './centripetalnet_hourglass104_mstest_16x6_210e_coco.py'

classes = ('circle', 'square', 'triangle', 'star', 'cross')
model = dict(
    backbone=dict(downsample_times=2, stage_channels=[16, 24, 32], stage_blocks=[1, 1, 1],
                  feat_channel=16),
    bbox_head=dict(num_classes=len(classes), in_channels=16),
    test_cfg=dict(corner_topk=40))
img_norm_cfg = dict(
    mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
train_pipeline = [
    dict(type='LoadImageFromFile', to_float32=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='RandomCenterCropPad',
        crop_size=(96, 96),
        ratios=(0.8, 0.9, 1.0, 1.1, 1.2),
        test_mode=False,
        test_pad_mode=None,
        **img_norm_cfg),
    dict(type='Resize', img_scale=(96, 96), keep_ratio=False),
    dict(type='RandomFlip', flip_ratio=0.5),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='DefaultFormatBundle'),
    dict(type='Collect', keys=['img', 'gt_bboxes', 'gt_labels']),
]
test_pipeline = [
    dict(type='LoadImageFromFile', to_float32=True),
    dict(
        type='MultiScaleFlipAug',
        scale_factor=1.0,
        flip=True,
        transforms=[
            dict(type='Resize'),
            dict(
                type='RandomCenterCropPad',
                crop_size=None,
                ratios=None,
                border=None,
                test_mode=True,
                test_pad_mode=['logical_or', 31],
                **img_norm_cfg),
            dict(type='RandomFlip'),
            dict(type='Normalize', **img_norm_cfg),
            dict(type='ImageToTensor', keys=['img']),
            dict(
                type='Collect',
                keys=['img'],
                meta_keys=('filename', 'ori_shape', 'img_shape', 'pad_shape',
                           'scale_factor', 'flip', 'img_norm_cfg', 'border')),
        ])
]
data_root = 'data/shapes/'
data = dict(
    samples_per_gpu=4,
    workers_per_gpu=1,
    train=dict(
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
optimizer = dict(type='Adam', lr=0.002)
lr_config = dict(warmup_iters=10, step=[6])
runner = dict(type='EpochBasedRunner', max_epochs=8)
checkpoint_config = dict(interval=8, max_keep_ckpts=1)
evaluation = dict(interval=8, metric='bbox')
log_config = dict(interval=4)
auto_scale_lr = dict(base_batch_size=4)
