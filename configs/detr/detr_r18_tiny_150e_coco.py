# A small DETR for tests and CPU experiments: ResNet-18, 64 channels, 2 encoder and 2 decoder
# layers, 50 queries, 256 px images.
_base_ = ['./detr_r50_8x2_150e_coco.py']
embed_dims = 64
ffn_cfgs = dict(type='FFN', embed_dims=embed_dims, feedforward_channels=128, num_fcs=2,
                ffn_drop=0.1, act_cfg=dict(type='ReLU', inplace=True))
attn = dict(type='MultiheadAttention', embed_dims=embed_dims, num_heads=4, dropout=0.1)
model = dict(
    backbone=dict(depth=18, init_cfg=None),
    bbox_head=dict(
        num_query=50,
        in_channels=512,
        transformer=dict(
            encoder=dict(
                num_layers=2,
                transformerlayers=dict(attn_cfgs=[attn], ffn_cfgs=ffn_cfgs,
                                       feedforward_channels=128)),
            decoder=dict(
                num_layers=2,
                transformerlayers=dict(attn_cfgs=attn, ffn_cfgs=ffn_cfgs,
                                       feedforward_channels=128))),
        positional_encoding=dict(num_feats=embed_dims // 2)),
    test_cfg=dict(max_per_img=50))
img_norm_cfg = dict(
    mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', img_scale=(400, 256), keep_ratio=True),
    dict(type='RandomFlip', flip_ratio=0.5),
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
