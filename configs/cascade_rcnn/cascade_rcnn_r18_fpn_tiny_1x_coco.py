# A small Cascade R-CNN for tests and CPU experiments: ResNet-18, 64-channel FPN, 256 px images.
_base_ = [
    '../_base_/models/cascade_rcnn_r50_fpn.py',
    '../_base_/datasets/coco_detection_256.py',
    '../_base_/schedules/schedule_1x.py', '../_base_/default_runtime.py'
]


def tiny_head(stds):
    return dict(
        type='Shared2FCBBoxHead',
        in_channels=64,
        fc_out_channels=128,
        roi_feat_size=7,
        num_classes=80,
        bbox_coder=dict(
            type='DeltaXYWHBBoxCoder',
            target_means=[0., 0., 0., 0.],
            target_stds=stds),
        reg_class_agnostic=True,
        loss_cls=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
        loss_bbox=dict(type='SmoothL1Loss', beta=1.0, loss_weight=1.0))


model = dict(
    backbone=dict(depth=18, init_cfg=None),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=64),
    rpn_head=dict(in_channels=64, feat_channels=64),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=64),
        bbox_head=[
            tiny_head([0.1, 0.1, 0.2, 0.2]),
            tiny_head([0.05, 0.05, 0.1, 0.1]),
            tiny_head([0.033, 0.033, 0.067, 0.067]),
        ]))
