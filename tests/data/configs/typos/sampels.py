_base_ = '../../../../configs/_base_/datasets/coco_detection.py'
data = dict(sampels_per_gpu=4)
