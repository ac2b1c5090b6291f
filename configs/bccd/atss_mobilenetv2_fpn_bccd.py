# ATSS on an ImageNet-pretrained MobileNetV2 with a small FPN for BCCD, the blood cell data set
# (classes RBC, WBC, Platelets; 640x480 microscope images in Pascal VOC layout), trained on
# trainval and tested on test at 512x384 on a CPU.
#
# Data: put the data set at data/bccd/ (data/bccd/BCCD/{Annotations,ImageSets,JPEGImages}) and
# convert each split to COCO json once (file names are JPEGImages/<id>.jpg, under BCCD/):
#   for s in trainval test; do python tools/dataset_converters/voc2coco.py data/bccd/BCCD \
#       --split $s --classes RBC WBC Platelets --out data/bccd/annotations/$s.json; done
# COCO evaluation gives bbox_mAP_50, bbox_mAP and (with classwise=True) per-class AP.
_base_ = [
    '../_base_/models/atss_r50_fpn.py',
    '../_base_/schedules/schedule_1x.py', '../_base_/default_runtime.py'
]
classes = ('RBC', 'WBC', 'Platelets')
model = dict(
    backbone=dict(
        _delete_=True,
        type='MobileNetV2',
        out_indices=(2, 4, 6),
        frozen_stages=1,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=True,
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://mobilenet_v2')),
    neck=dict(in_channels=[32, 96, 320], out_channels=64, start_level=0, num_outs=5),
    bbox_head=dict(num_classes=len(classes), in_channels=64, feat_channels=64,
                   stacked_convs=2),
    # up to ~40 cells an image: keep more boxes before NMS than COCO's defaults need
    test_cfg=dict(nms_pre=1000, score_thr=0.05, max_per_img=100))

dataset_type = 'CocoDataset'
data_root = 'data/bccd/'
img_scale = (512, 384)
img_norm_cfg = dict(
    mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', img_scale=img_scale, keep_ratio=True),
    # cells have no up or down: flip both ways
    dict(type='RandomFlip', flip_ratio=[0.25, 0.25, 0.25],
         direction=['horizontal', 'vertical', 'diagonal']),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='Pad', size_divisor=32),
    dict(type='DefaultFormatBundle'),
    dict(type='Collect', keys=['img', 'gt_bboxes', 'gt_labels']),
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
            dict(type='ImageToTensor', keys=['img']),
            dict(type='Collect', keys=['img']),
        ])
]
data = dict(
    samples_per_gpu=4,
    workers_per_gpu=1,
    train=dict(
        type=dataset_type,
        classes=classes,
        ann_file=data_root + 'annotations/trainval.json',
        img_prefix=data_root + 'BCCD/',
        pipeline=train_pipeline),
    val=dict(
        type=dataset_type,
        classes=classes,
        ann_file=data_root + 'annotations/test.json',
        img_prefix=data_root + 'BCCD/',
        pipeline=test_pipeline),
    test=dict(
        type=dataset_type,
        classes=classes,
        ann_file=data_root + 'annotations/test.json',
        img_prefix=data_root + 'BCCD/',
        pipeline=test_pipeline))

optimizer = dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0001)
lr_config = dict(
    policy='step', warmup='linear', warmup_iters=100, warmup_ratio=0.01, step=[8, 11])
runner = dict(type='EpochBasedRunner', max_epochs=12)
evaluation = dict(interval=1, metric='bbox', classwise=True)
checkpoint_config = dict(interval=1, max_keep_ckpts=1)
log_config = dict(interval=10, hooks=[dict(type='TextLoggerHook')])
