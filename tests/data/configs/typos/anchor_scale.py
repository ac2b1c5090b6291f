_base_ = '../../../../configs/faster_rcnn/faster_rcnn_r50_fpn_1x_coco.py'
model = dict(rpn_head=dict(anchor_generator=dict(scale=[8])))
