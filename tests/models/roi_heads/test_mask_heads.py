"""Mask heads, mask targets and pasting; mask branches of the RoI heads end to end (tiny)."""

import numpy as np
import pytest
import torch

from detbox.config import Config
from detbox.models.builder import build_detector
from detbox.models.roi_heads.mask_heads import FCNMaskHead, mask_target, paste_masks
from detbox.structures import BitmapMasks, PolygonMasks
from tests.conftest import DATA, REPO


class Res:  # a sampling result, as the sampler gives it
    def __init__(self, pos_bboxes, inds, labels):
        self.pos_bboxes, self.pos_assigned_gt_inds, self.pos_gt_labels = pos_bboxes, inds, labels


def test_fcn_mask_head_shapes_loss_and_class_agnostic():
    head = FCNMaskHead(num_convs=1, in_channels=8, conv_out_channels=8, num_classes=3)
    head.init_weights()
    pred = head(torch.randn(4, 8, 14, 14))
    assert pred.shape == (4, 3, 28, 28)
    targets = (torch.rand(4, 28, 28) > 0.5).float()
    labels = torch.tensor([0, 2, 1, 2])
    loss = head.loss(pred, targets, labels)["loss_mask"]
    picked = pred[torch.arange(4), labels]
    expected = torch.nn.functional.binary_cross_entropy_with_logits(picked, targets)
    torch.testing.assert_close(loss, expected[None])
    agnostic = FCNMaskHead(num_convs=0, in_channels=8, num_classes=3, class_agnostic=True,
                           upsample_cfg=dict(type="bilinear", scale_factor=2))
    assert agnostic(torch.randn(2, 8, 7, 7)).shape == (2, 1, 14, 14)
    assert head.loss(pred[:0], targets[:0], labels[:0])["loss_mask"].item() == 0
    with pytest.raises(ValueError, match="init_cfg"):
        FCNMaskHead(init_cfg=dict(type="Normal"))


def test_mask_targets_crop_the_assigned_masks():
    bitmap = np.zeros((2, 20, 20), np.uint8)
    bitmap[0, 2:10, 2:10] = 1
    bitmap[1, 10:20, 0:20] = 1
    gt = BitmapMasks(bitmap, 20, 20)
    boxes = torch.tensor([[2., 2., 10., 10.], [0., 10., 20., 20.], [-5., -5., 6., 6.]])
    t = mask_target([boxes], [torch.tensor([0, 1, 0])], [gt], dict(mask_size=8))
    assert t.shape == (3, 8, 8)
    assert t[0].all() and t[1].all()  # each box is exactly its mask
    assert 0 < t[2].mean() < 1  # clipped to the image, partly covered
    poly = PolygonMasks([[np.array([2., 2., 10., 2., 10., 10., 2., 10.])]], 20, 20)
    tp = mask_target([boxes[:1]], [torch.tensor([0])], [poly], dict(mask_size=(4, 6)))
    assert tp.shape == (1, 4, 6) and tp.all()


def test_paste_and_seg_masks_in_original_pixels():
    head = FCNMaskHead(num_convs=0, in_channels=4, num_classes=2)
    logits = torch.full((2, 2, 28, 28), -10.0)
    logits[0, 1] = 10.0  # detection 0 (label 1): a full box
    logits[1, 0, :14] = 10.0  # detection 1 (label 0): the top half
    boxes = torch.tensor([[4., 4., 20., 12., 0.9], [10., 0., 30., 20., 0.8]])
    segms = head.get_seg_masks(logits, boxes, torch.tensor([1, 0]), dict(mask_thr_binary=0.5),
                               (40, 60, 3), np.array([2., 2., 2., 2.], np.float32), rescale=True)
    assert len(segms[1]) == 1 and len(segms[0]) == 1
    full, half = segms[1][0], segms[0][0]
    assert full.shape == (40, 60) and full.dtype == bool
    assert full[2:6, 2:10].all() and full.sum() == 32  # box / 2 = [2, 2, 10, 6]
    assert half[:5, 5:15].all() and not half[6:].any()
    masks, spatial = paste_masks(torch.ones(1, 1, 4, 4), torch.tensor([[1., 1., 3., 3.]]), 5, 5,
                                 skip_empty=False)
    assert spatial == () and masks.shape == (1, 5, 5) and masks[0, 1:3, 1:3].min() > 0.4


@pytest.mark.parametrize("rel", ["mask_rcnn_r18_fpn_tiny.py", "cascade_mask_rcnn_r18_fpn_tiny.py",
                                 "htc_r18_fpn_tiny.py"])
def test_mask_detectors_train_and_test(rel):
    torch.manual_seed(0)
    cfg = Config.fromfile(DATA / "mmdet_reference_mask" / "configs" / rel)
    # few RoIs: this checks the plumbing (parity with MMDetection is tested elsewhere)
    cfg.model.train_cfg.rpn.sampler.num = 64
    cfg.model.train_cfg.rpn_proposal.update(nms_pre=200, max_per_img=50)
    for stage in (cfg.model.train_cfg.rcnn if isinstance(cfg.model.train_cfg.rcnn, list)
                  else [cfg.model.train_cfg.rcnn]):
        stage.sampler.num = 32
    cfg.model.test_cfg.rpn.update(nms_pre=200, max_per_img=30)
    cfg.model.test_cfg.rcnn.max_per_img = 10
    model = build_detector(cfg.model)
    model.eval().train()
    img = torch.randn(2, 3, 64, 96)
    metas = [dict(img_shape=(64, 90, 3), ori_shape=(32, 45, 3), pad_shape=(64, 96, 3),
                  scale_factor=np.array([2., 2., 2., 2.], np.float32), flip=False,
                  flip_direction=None)] * 2
    boxes = [torch.tensor([[5., 6., 40., 50.]]), torch.tensor([[10., 10., 60., 30.],
                                                               [50., 5., 85., 60.]])]
    labels = [torch.tensor([0]), torch.tensor([1, 2])]
    masks = []
    for b in boxes:
        m = np.zeros((len(b), 64, 96), np.uint8)
        for j, (x1, y1, x2, y2) in enumerate(b.int().tolist()):
            m[j, y1:y2, x1:x2] = 1
        masks.append(BitmapMasks(m, 64, 96))
    extra = {}
    if "htc" in rel:
        extra["gt_semantic_seg"] = torch.randint(0, 5, (2, 1, 8, 12))
    losses = model(img, [dict(m) for m in metas], gt_bboxes=boxes, gt_labels=labels,
                   gt_masks=masks, **extra)
    mask_losses = [k for k in losses if "loss_mask" in k]
    assert mask_losses and all(torch.isfinite(losses[k]).all() for k in mask_losses)
    if "htc" in rel:
        assert "loss_semantic_seg" in losses
    model.eval()
    with torch.no_grad():
        results = model(img=[img], img_metas=[[dict(m) for m in metas]], return_loss=False,
                        rescale=True)
    assert len(results) == 2
    for bbox_result, segm_result in results:
        assert len(bbox_result) == len(segm_result) == 3
        for boxes_c, masks_c in zip(bbox_result, segm_result):
            assert len(boxes_c) == len(masks_c)
            assert all(m.shape == (32, 45) and m.dtype == bool for m in masks_c)


def test_mask_scoring_rcnn_gives_mask_scores():
    cfg = Config.fromfile(REPO / "configs" / "ms_rcnn" / "ms_rcnn_r50_fpn_1x_coco.py")
    m = cfg.model
    m.backbone.update(depth=18, init_cfg=None)
    m.neck.update(in_channels=[64, 128, 256, 512], out_channels=16)
    m.rpn_head.update(in_channels=16, feat_channels=16)
    for key in ("bbox_roi_extractor", "mask_roi_extractor"):
        m.roi_head[key].out_channels = 16
    m.roi_head.bbox_head.update(in_channels=16, fc_out_channels=32, num_classes=2)
    m.roi_head.mask_head.update(in_channels=16, conv_out_channels=16, num_classes=2)
    m.roi_head.mask_iou_head.update(in_channels=16, conv_out_channels=16, fc_out_channels=32,
                                    num_classes=2)
    model = build_detector(m)
    model.init_weights()
    img = torch.randn(1, 3, 64, 64)
    meta = dict(img_shape=(64, 64, 3), ori_shape=(64, 64, 3), pad_shape=(64, 64, 3),
                scale_factor=np.ones(4, np.float32), flip=False, flip_direction=None)
    gt = np.zeros((1, 64, 64), np.uint8)
    gt[0, 10:40, 8:50] = 1
    losses = model(img, [dict(meta)], gt_bboxes=[torch.tensor([[8., 10., 50., 40.]])],
                   gt_labels=[torch.tensor([1])], gt_masks=[BitmapMasks(gt, 64, 64)])
    assert "loss_mask_iou" in losses and torch.isfinite(losses["loss_mask_iou"])
    model.eval()
    with torch.no_grad():
        (bbox_result, (segms, scores)), = model(img=[img], img_metas=[[dict(meta)]],
                                                return_loss=False)
    for boxes_c, segms_c, scores_c in zip(bbox_result, segms, scores):
        assert len(boxes_c) == len(segms_c) == len(scores_c)
