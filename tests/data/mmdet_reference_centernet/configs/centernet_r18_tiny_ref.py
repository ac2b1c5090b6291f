# A self-contained tiny CenterNet (MMDetection 2.28.2 types and arguments, no _base_): ResNet-18
# (BN in train mode, as in the COCO configs), CTResNetNeck without DCN at 32/16/16 channels, a
# 16-channel CenterNetHead with 3 classes, the COCO configs' test pipeline (original size,
# RandomCenterCropPad test mode) and test_cfg.
model = dict(
    type='CenterNet',
    backbone=dict(type='ResNet', depth=18, norm_eval=False, norm_cfg=dict(type='BN')),
    neck=dict(type='CTResNetNeck', in_channel=512, num_deconv_filters=(32, 16, 16),
              num_deconv_kernels=(4, 4, 4), use_dcn=False),
    bbox_head=dict(
        type='CenterNetHead',
        num_classes=3,
        in_channel=16,
        feat_channel=16,
        loss_center_heatmap=dict(type='GaussianFocalLoss', loss_weight=1.0),
        loss_wh=dict(type='L1Loss', loss_weight=0.1),
        loss_offset=dict(type='L1Loss', loss_weight=1.0)),
    train_cfg=None,
    test_cfg=dict(topk=100, local_maximum_kernel=3, max_per_img=100))
img_norm_cfg = dict(
    mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
test_pipeline = [
    dict(type='LoadImageFromFile', to_float32=True),
    dict(
        type='MultiScaleFlipAug',
        scale_factor=1.0,
        flip=False,
        transforms=[
            dict(type='Resize', keep_ratio=True),
            dict(
                type='RandomCenterCropPad',
                ratios=None,
                border=None,
                mean=[0, 0, 0],
                std=[1, 1, 1],
                to_rgb=True,
                test_mode=True,
                test_pad_mode=['logical_or', 31],
                test_pad_add_pix=1),
            dict(type='RandomFlip'),
            dict(type='Normalize', **img_norm_cfg),
            dict(type='DefaultFormatBundle'),
            dict(
                type='Collect',
                meta_keys=('filename', 'ori_filename', 'ori_shape',
                           'img_shape', 'pad_shape', 'scale_factor', 'flip',
                           'flip_direction', 'img_norm_cfg', 'border'),
                keys=['img'])
        ])
]
data = dict(test=dict(type='CocoDataset', ann_file=None, img_prefix=None,
                      pipeline=test_pipeline))
