# A small PVTv2 RetinaNet for tests and CPU experiments: PVTv2 with 16 base channels and one
# encoder layer per stage (16, 32, 80, 128 channels), 64-channel FPN and head, 256 px, AdamW.
_base_ = [
    '../_base_/models/retinanet_r50_fpn.py',
    '../_base_/datasets/coco_detection_256.py',
    '../_base_/schedules/schedule_1x.py', '../_base_/default_runtime.py'
]
model = dict(
    type='RetinaNet',
    backbone=dict(
        _delete_=True,
        type='PyramidVisionTransformerV2',
        embed_dims=16,
        num_layers=[1, 1, 1, 1],
        init_cfg=None),
    neck=dict(in_channels=[16, 32, 80, 128], out_channels=64),
    bbox_head=dict(in_channels=64, feat_channels=64, stacked_convs=2))
optimizer = dict(_delete_=True, type='AdamW', lr=0.0005, weight_decay=0.0001)
