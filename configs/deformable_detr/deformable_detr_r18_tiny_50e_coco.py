# A small Deformable DETR for tests and CPU experiments: ResNet-18, 64 channels, 2 encoder and
# 2 decoder layers, 50 queries, the DETR augmentation (AutoAugment) scaled down to ~256 px.
_base_ = './deformable_detr_r50_16x2_50e_coco.py'
embed_dims = 64
ffn_cfgs = dict(type='FFN', embed_dims=embed_dims, feedforward_channels=128, num_fcs=2,
                ffn_drop=0.1, act_cfg=dict(type='ReLU', inplace=True))
model = dict(
    backbone=dict(depth=18, init_cfg=None),
    neck=dict(in_channels=[128, 256, 512], out_channels=embed_dims,
              norm_cfg=dict(type='GN', num_groups=8)),
    bbox_head=dict(
        num_query=50,
        in_channels=512,
        transformer=dict(
            encoder=dict(
                num_layers=2,
                transformerlayers=dict(
                    attn_cfgs=dict(type='MultiScaleDeformableAttention',
                                   embed_dims=embed_dims, num_heads=4),
                    ffn_cfgs=ffn_cfgs,
                    feedforward_channels=128)),
            decoder=dict(
                num_layers=2,
                transformerlayers=dict(
                    attn_cfgs=[
                        dict(type='MultiheadAttention', embed_dims=embed_dims, num_heads=4,
                             dropout=0.1),
                        dict(type='MultiScaleDeformableAttention', embed_dims=embed_dims,
                             num_heads=4)
                    ],
                    ffn_cfgs=ffn_cfgs,
                    feedforward_channels=128))),
        positional_encoding=dict(num_feats=embed_dims // 2)),
    test_cfg=dict(max_per_img=50))
img_norm_cfg = dict(
    mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RandomFlip', flip_ratio=0.5),
    dict(
        type='AutoAugment',
        policies=[[
            dict(type='Resize', img_scale=[(400, 192), (400, 224), (400, 256)],
                 multiscale_mode='value', keep_ratio=True)
        ], [
            dict(type='Resize', img_scale=[(400, 160), (400, 200)],
                 multiscale_mode='value', keep_ratio=True),
            dict(type='RandomCrop', crop_type='absolute_range', crop_size=(96, 160),
                 allow_negative_crop=True),
            dict(type='Resize', img_scale=[(400, 192), (400, 224), (400, 256)],
                 multiscale_mode='value', override=True, keep_ratio=True)
        ]]),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='Pad', size_divisor=1),
    dict(type='DefaultFormatBundle'),
    dict(type='Collect', keys=['img', 'gt_bboxes', 'gt_labels'])
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='MultiScaleFlipAug',
        img_scale=(400, 256),
        flip=False,
        transforms=[
            dict(type='Resize', keep_ratio=True),
            dict(type='RandomFlip'),
            dict(type='Normalize', **img_norm_cfg),
            dict(type='Pad', size_divisor=1),
            dict(type='ImageToTensor', keys=['img']),
            dict(type='Collect', keys=['img'])
        ])
]
data = dict(
    train=dict(pipeline=train_pipeline),
    val=dict(pipeline=test_pipeline),
    test=dict(pipeline=test_pipeline))
