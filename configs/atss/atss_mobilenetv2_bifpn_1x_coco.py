# ATSS on MobileNetV2 (torchvision's ImageNet weights, found offline) with an EfficientDet-D0
# style BiFPN neck (64 channels, 3 repeated layers, depthwise-separable convs, fast normalised
# fusion). Neither the backbone weights nor BiFPN are part of MMDetection v2; see README.md.
_base_ = './atss_r50_fpn_1x_coco.py'
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
        _delete_=True,
        type='BiFPN',
        in_channels=[32, 96, 320],
        out_channels=64,
        num_outs=5,
        start_level=0,
        stack=3,
        add_extra_convs=True,
        norm_cfg=dict(type='BN', momentum=0.01, eps=1e-3, requires_grad=True),
        act_cfg=dict(type='Swish')),
    bbox_head=dict(in_channels=64, feat_channels=64, stacked_convs=3))
