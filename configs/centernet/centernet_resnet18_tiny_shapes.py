# A tiny CenterNet for tests and CPU experiments: ResNet-18 with a 32/16/16-channel CTResNetNeck
# without DCN and a 16-channel head, 96 px inputs, on the generated shapes data
# (tools/misc/make_shapes.py: data/shapes/, 5 classes) over 12 short epochs. Changed for a
# from-scratch model this small: AdamW, no PhotoMetricDistortion / RandomCenterCropPad in
# training (plain resize and flip), a short warm-up; the test pipeline is the COCO configs'.
_base_ = './centernet_resnet18_140e_coco.py'

classes = ('circle', 'square', 'triangle', 'star', 'cross')
model = dict(
    backbone=dict(init_cfg=None),
    neck=dict(num_deconv_filters=(32, 16, 16)),
    bbox_head=dict(num_classes=len(classes), in_channel=16, feat_channel=16))

data_root = 'data/shapes/'
img_norm_cfg = dict(
    mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
train_pipeline = [
    dict(type='LoadImageFromFile', to_float32=True, color_type='color'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', img_scale=(96, 96), keep_ratio=True),
    dict(type='RandomFlip', flip_ratio=0.5),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='Pad', size_divisor=32),
    dict(type='DefaultFormatBundle'),
    dict(type='Collect', keys=['img', 'gt_bboxes', 'gt_labels'])
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
        img_prefix=data_root + 'images/'),
    test=dict(
        classes=classes,
        ann_file=data_root + 'annotations/val.json',
        img_prefix=data_root + 'images/'))

optimizer = dict(_delete_=True, type='AdamW', lr=0.002, weight_decay=0.0001)
optimizer_config = dict(_delete_=True, grad_clip=dict(max_norm=35, norm_type=2))
lr_config = dict(_delete_=True, policy='step', warmup='linear', warmup_iters=5,
                 warmup_ratio=0.1, step=[100])
runner = dict(type='EpochBasedRunner', max_epochs=12)
evaluation = dict(interval=12, metric=['bbox'])
checkpoint_config = dict(interval=12)
log_config = dict(interval=2, hooks=[dict(type='TextLoggerHook')])
