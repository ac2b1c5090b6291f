# A self-contained tiny YOLOX (MMDetection 2.28.2 types and arguments, no _base_): CSPDarknet
# with deepen 0.33 / widen 0.125, 32-channel PAFPN and head, 3 classes, 320 px square input.
img_scale = (320, 320)
model = dict(
    type='YOLOX',
    input_size=img_scale,
    random_size_range=(8, 12),
    random_size_interval=10,
    backbone=dict(type='CSPDarknet', deepen_factor=0.33, widen_factor=0.125,
                  init_cfg=None),
    neck=dict(type='YOLOXPAFPN', in_channels=[32, 64, 128], out_channels=32,
              num_csp_blocks=1, init_cfg=None),
    bbox_head=dict(type='YOLOXHead', num_classes=3, in_channels=32, feat_channels=32,
                   init_cfg=None),
    train_cfg=dict(assigner=dict(type='SimOTAAssigner', center_radius=2.5)),
    test_cfg=dict(score_thr=0.01, nms=dict(type='nms', iou_threshold=0.65)))
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
data = dict(test=dict(type='CocoDataset', ann_file=None, img_prefix=None,
                      pipeline=test_pipeline))
