# A small RPN for tests: ResNet-18, 64-channel FPN, 256 px images.
_base_ = './rpn_r50_fpn_1x_coco.py'
model = dict(
    backbone=dict(depth=18, init_cfg=None),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=64),
    rpn_head=dict(in_channels=64, feat_channels=64))
