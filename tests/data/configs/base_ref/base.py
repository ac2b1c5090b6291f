img_norm_cfg = dict(mean=[1, 2, 3], std=[4, 5, 6], to_rgb=True)
model = dict(bbox_head=dict(num_classes=80))
