# A tiny YOLOX for tests and CPU experiments: YOLOX-s's design at 1/8 of its width (8..128
# channels, about 0.5 M parameters), 96 px inputs (random batch sizes 64..128 px) and YOLOX's
# recipe (Mosaic / RandomAffine / MixUp / HSV, mode switch, SyncNorm, EMA, YOLOX lr) on the
# generated shapes data (tools/misc/make_shapes.py: data/shapes/, 5 classes) over 10 short
# epochs. Changed for a from-scratch model this small: AdamW instead of SGD (SGD needs far
# more iterations), the strong augmentations only in the first 3 epochs.
_base_ = './yolox_s_8x8_300e_coco.py'

img_scale = (96, 96)
classes = ('circle', 'square', 'triangle', 'star', 'cross')
model = dict(
    input_size=img_scale,
    random_size_range=(2, 4),
    random_size_interval=2,
    backbone=dict(deepen_factor=0.33, widen_factor=0.125),
    neck=dict(in_channels=[32, 64, 128], out_channels=32),
    bbox_head=dict(num_classes=len(classes), in_channels=32, feat_channels=32),
    test_cfg=dict(score_thr=0.01, nms=dict(type='nms', iou_threshold=0.65)))

data_root = 'data/shapes/'
train_pipeline = [
    dict(type='Mosaic', img_scale=img_scale, pad_val=114.0),
    dict(
        type='RandomAffine',
        scaling_ratio_range=(0.5, 1.5),
        border=(-img_scale[0] // 2, -img_scale[1] // 2)),
    dict(
        type='MixUp',
        img_scale=img_scale,
        ratio_range=(0.8, 1.6),
        pad_val=114.0),
    dict(type='YOLOXHSVRandomAug'),
    dict(type='RandomFlip', flip_ratio=0.5),
    dict(type='Resize', img_scale=img_scale, keep_ratio=True),
    dict(type='Pad', pad_to_square=True, pad_val=dict(img=(114.0, 114.0, 114.0))),
    dict(type='FilterAnnotations', min_gt_bbox_wh=(1, 1), keep_empty=False),
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
            dict(type='Pad', pad_to_square=True, pad_val=dict(img=(114.0, 114.0, 114.0))),
            dict(type='DefaultFormatBundle'),
            dict(type='Collect', keys=['img'])
        ])
]
data = dict(
    samples_per_gpu=4,
    workers_per_gpu=1,
    persistent_workers=True,
    train=dict(
        dataset=dict(
            classes=classes,
            ann_file=data_root + 'annotations/train.json',
            img_prefix=data_root + 'images/'),
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

optimizer = dict(_delete_=True, type='AdamW', lr=0.003, weight_decay=0.0001,
                 paramwise_cfg=dict(norm_decay_mult=0., bias_decay_mult=0.))
max_epochs = 10
num_last_epochs = 6
interval = 3
lr_config = dict(warmup_iters=1, num_last_epochs=2)
runner = dict(type='EpochBasedRunner', max_epochs=max_epochs)
custom_hooks = [
    dict(type='YOLOXModeSwitchHook', num_last_epochs=num_last_epochs, priority=48),
    dict(type='SyncNormHook', num_last_epochs=num_last_epochs, interval=interval,
         priority=48),
    dict(type='ExpMomentumEMAHook', resume_from=None, momentum=0.001, total_iter=50,
         priority=49)
]
checkpoint_config = dict(interval=interval, max_keep_ckpts=1)
evaluation = dict(
    save_best='auto',
    interval=interval,
    dynamic_intervals=[(max_epochs - 1, 1)],
    metric='bbox')
log_config = dict(interval=5)
auto_scale_lr = dict(base_batch_size=4)
