# A self-contained tiny CentripetalNet (MMDetection 2.28.2 types and arguments, no _base_): a
# 2-stack HourglassNet of depth 2 with 16 / 16 / 24 channels, a 16-channel CentripetalHead
# (no embeddings, 2 feature levels), 3 classes, the shift losses of centripetalnet's config;
# its test pipeline (crop-pad with logical_or 127, flip test) at the original size.
model = dict(
    type='CornerNet',
    backbone=dict(type='HourglassNet', downsample_times=2, num_stacks=2,
                  stage_channels=[16, 16, 24], stage_blocks=[1, 1, 1], feat_channel=16,
                  norm_cfg=dict(type='BN', requires_grad=True)),
    neck=None,
    bbox_head=dict(
        type='CentripetalHead', num_classes=3, in_channels=16, num_feat_levels=2,
        corner_emb_channels=0,
        loss_heatmap=dict(type='GaussianFocalLoss', alpha=2.0, gamma=4.0, loss_weight=1),
        loss_offset=dict(type='SmoothL1Loss', beta=1.0, loss_weight=1),
        loss_guiding_shift=dict(type='SmoothL1Loss', beta=1.0, loss_weight=0.05),
        loss_centripetal_shift=dict(type='SmoothL1Loss', beta=1.0, loss_weight=1)),
    train_cfg=None,
    test_cfg=dict(corner_topk=100, local_maximum_kernel=3, distance_threshold=0.5,
                  score_thr=0.05, max_per_img=100,
                  nms=dict(type='soft_nms', iou_threshold=0.5, method='gaussian')))
img_norm_cfg = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
test_pipeline = [
    dict(type='LoadImageFromFile', to_float32=True),
    dict(
        type='MultiScaleFlipAug',
        scale_factor=1.0,
        flip=True,
        transforms=[
            dict(type='Resize'),
            dict(type='RandomCenterCropPad', crop_size=None, ratios=None, border=None,
                 test_mode=True, test_pad_mode=['logical_or', 127], **img_norm_cfg),
            dict(type='RandomFlip'),
            dict(type='Normalize', **img_norm_cfg),
            dict(type='ImageToTensor', keys=['img']),
            dict(type='Collect', keys=['img'],
                 meta_keys=('filename', 'ori_shape', 'img_shape', 'pad_shape',
                            'scale_factor', 'flip', 'img_norm_cfg', 'border')),
        ])
]
data = dict(test=dict(type='CocoDataset', ann_file=None, img_prefix=None,
                      pipeline=test_pipeline))
