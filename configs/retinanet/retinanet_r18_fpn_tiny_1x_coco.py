# A small RetinaNet for tests and CPU experiments: ResNet-18, 64-channel FPN and head, 256 px.
_base_ = [
    '../_base_/models/retinanet_r50_fpn.py',
    '../_base_/datasets/coco_detection_256.py',
    '../_base_/schedules/schedule_1x.py', '../_base_/default_runtime.py'
]
model = dict(
    backbone=dict(depth=18, init_cfg=None),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=64),
    bbox_head=dict(in_channels=64, feat_channels=64, stacked_convs=2))
optimizer = dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0001)
