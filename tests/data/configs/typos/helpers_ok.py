_base_ = '../../../../configs/retinanet/retinanet_r50_fpn_1x_coco.py'
albu_train_transforms = [dict(type='RandomBrightnessContrast')]
checkpoint_file = 'weights.pth'
img_scale = (640, 640)
