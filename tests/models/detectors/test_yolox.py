"""YOLOX detector: batch resizing (image and boxes), the size draw, config building."""

import random

import torch

from detbox.models.builder import build_detector

TINY = dict(
    type="YOLOX", input_size=(64, 64), random_size_range=(1, 3), random_size_interval=2,
    backbone=dict(type="CSPDarknet", deepen_factor=0.33, widen_factor=0.125, init_cfg=None),
    neck=dict(type="YOLOXPAFPN", in_channels=[32, 64, 128], out_channels=16, num_csp_blocks=1,
              init_cfg=None),
    bbox_head=dict(type="YOLOXHead", num_classes=2, in_channels=16, feat_channels=16,
                   init_cfg=None),
    train_cfg=dict(assigner=dict(type="SimOTAAssigner", center_radius=2.5)),
    test_cfg=dict(score_thr=0.01, nms=dict(type="nms", iou_threshold=0.65)))


def test_preprocess_resizes_images_and_boxes():
    model = build_detector(TINY)
    model._input_size = (32, 96)
    gts = [torch.tensor([[10.0, 20.0, 30.0, 40.0]])]
    img, scaled = model._preprocess(torch.zeros(1, 3, 64, 64), gts)
    assert img.shape == (1, 3, 32, 96)
    assert scaled[0].tolist() == [[15.0, 10.0, 45.0, 20.0]]
    assert gts[0].tolist() == [[10.0, 20.0, 30.0, 40.0]]  # the caller's boxes are not changed


def test_size_changes_every_interval_within_the_range():
    random.seed(3)
    model = build_detector(TINY)
    model.train()
    img = torch.rand(2, 3, 64, 64) * 255
    gts = [torch.tensor([[8.0, 8.0, 40.0, 40.0]])] * 2
    labels = [torch.tensor([0])] * 2
    metas = [dict(img_shape=(64, 64, 3), pad_shape=(64, 64, 3), scale_factor=[1.0] * 4,
                  batch_input_shape=(64, 64))] * 2
    seen = []
    for _ in range(6):
        seen.append(model._input_size)
        losses = model.forward_train(img, metas, gts, labels)
        assert set(losses) == {"loss_cls", "loss_bbox", "loss_obj"}
    assert seen[0] == seen[1] == (64, 64)
    assert seen[2] == seen[3] and seen[4] == seen[5]
    assert all(h == w and h in (32, 64, 96) for h, w in seen)
