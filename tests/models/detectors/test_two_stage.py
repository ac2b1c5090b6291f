"""Faster R-CNN, Cascade R-CNN and RPN: weight layout as MMDetection 2.28, train and test steps."""

import numpy as np
import pytest
import torch

from detbox.config import Config
from detbox.models.builder import build_detector
from tests.conftest import REPO

CONFIGS = REPO / "configs"


def build(rel, **model_overrides):
    cfg = Config.fromfile(CONFIGS / rel)
    cfg.model.update(model_overrides)
    return build_detector(cfg.model)


def shapes(model):
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


def test_faster_rcnn_r50_fpn_matches_mmdetection_layout():
    model = build("faster_rcnn/faster_rcnn_r50_fpn_1x_coco.py")
    sd = shapes(model)
    assert len(sd) == 348
    assert sum(p.numel() for p in model.parameters()) == 41_753_056
    assert sd["backbone.conv1.weight"] == (64, 3, 7, 7)
    assert sd["neck.lateral_convs.0.conv.weight"] == (256, 256, 1, 1)
    assert sd["rpn_head.rpn_conv.weight"] == (256, 256, 3, 3)
    assert sd["rpn_head.rpn_cls.weight"] == (3, 256, 1, 1)
    assert sd["roi_head.bbox_head.shared_fcs.0.weight"] == (1024, 12544)
    assert sd["roi_head.bbox_head.fc_cls.weight"] == (81, 1024)
    assert sd["roi_head.bbox_head.fc_reg.weight"] == (320, 1024)


def test_cascade_rcnn_r50_fpn_matches_mmdetection_layout():
    sd = shapes(build("cascade_rcnn/cascade_rcnn_r50_fpn_1x_coco.py"))
    assert len(sd) == 364
    for stage in range(3):
        assert sd[f"roi_head.bbox_head.{stage}.fc_reg.weight"] == (4, 1024)
        assert sd[f"roi_head.bbox_head.{stage}.fc_cls.weight"] == (81, 1024)


def batch(num_imgs=2, size=(128, 160)):
    torch.manual_seed(0)
    h, w = size
    img = torch.randn(num_imgs, 3, h, w)
    metas = [dict(img_shape=(h, w, 3), ori_shape=(h, w, 3), pad_shape=(h, w, 3),
                  scale_factor=np.ones(4, dtype=np.float32), flip=False, flip_direction=None)
             for _ in range(num_imgs)]
    gt_bboxes = [torch.tensor([[10.0, 12.0, 70.0, 90.0], [60.0, 30.0, 150.0, 120.0]])
                 for _ in range(num_imgs)]
    gt_labels = [torch.tensor([0, 2]) for _ in range(num_imgs)]
    return img, metas, gt_bboxes, gt_labels


@pytest.mark.parametrize("rel, keys", [
    ("faster_rcnn/faster_rcnn_r18_fpn_tiny_1x_coco.py",
     {"loss_rpn_cls", "loss_rpn_bbox", "loss_cls", "loss_bbox", "acc"}),
    ("cascade_rcnn/cascade_rcnn_r18_fpn_tiny_1x_coco.py",
     {"loss_rpn_cls", "loss_rpn_bbox"} | {f"s{i}.{k}" for i in range(3)
                                          for k in ("loss_cls", "loss_bbox", "acc")}),
])
def test_train_step_and_test_step(rel, keys):
    model = build(rel)
    model.init_weights()
    img, metas, gt_bboxes, gt_labels = batch()
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    out = model.train_step(dict(img=img, img_metas=metas, gt_bboxes=gt_bboxes,
                                gt_labels=gt_labels), optimizer)
    assert set(out["log_vars"]) == keys | {"loss"}
    assert out["num_samples"] == 2 and torch.isfinite(out["loss"])
    out["loss"].backward()
    assert model.rpn_head.rpn_conv.weight.grad is not None
    model.eval()
    with torch.no_grad():
        results = model(img=[img], img_metas=[metas], return_loss=False, rescale=True)
    assert len(results) == 2
    for per_class in results:
        assert len(per_class) == 80
        assert all(r.ndim == 2 and r.shape[1] == 5 and r.dtype == np.float32 for r in per_class)


def test_rpn_detector_gives_proposals_per_image():
    model = build("rpn/rpn_r18_fpn_tiny_1x_coco.py")
    model.init_weights()
    img, metas, gt_bboxes, _ = batch(1)
    losses = model(img, metas, gt_bboxes=gt_bboxes)
    assert set(losses) == {"loss_rpn_cls", "loss_rpn_bbox"}
    model.eval()
    with torch.no_grad():
        (proposals,) = model(img=[img], img_metas=[metas], return_loss=False)
    assert proposals.ndim == 2 and proposals.shape[1] == 5
    assert 0 < len(proposals) <= 1000
