_base_ = './base.py'
norm = {{_base_.img_norm_cfg}}
num_classes = {{ _base_.model.bbox_head.num_classes }}
pipeline = [dict(type='Normalize', mean={{_base_.img_norm_cfg.mean}})]
