"""SparseRoIHead: per-stage losses, refined boxes between stages, top-k test output."""

import numpy as np
import pytest
import torch

from detbox.models.roi_heads import SparseRoIHead

C = 16


def roi_head(num_stages=2):
    dii = dict(type="DIIHead", num_classes=3, num_heads=2, feedforward_channels=32,
               in_channels=C,
               dynamic_conv_cfg=dict(type="DynamicConv", in_channels=C, feat_channels=4,
                                     out_channels=C, input_feat_shape=7),
               loss_cls=dict(type="FocalLoss", use_sigmoid=True, loss_weight=2.0),
               loss_bbox=dict(type="L1Loss", loss_weight=5.0),
               bbox_coder=dict(type="DeltaXYWHBBoxCoder", clip_border=False,
                               target_means=[0.0] * 4, target_stds=[0.5, 0.5, 1.0, 1.0]))
    stage_cfg = dict(assigner=dict(type="HungarianAssigner",
                                   cls_cost=dict(type="FocalLossCost", weight=2.0),
                                   reg_cost=dict(type="BBoxL1Cost", weight=5.0),
                                   iou_cost=dict(type="IoUCost", iou_mode="giou", weight=2.0)),
                     sampler=dict(type="PseudoSampler"), pos_weight=1)
    torch.manual_seed(0)
    head = SparseRoIHead(
        num_stages=num_stages, stage_loss_weights=[1, 0.5][:num_stages],
        proposal_feature_channel=C,
        bbox_roi_extractor=dict(type="SingleRoIExtractor",
                                roi_layer=dict(type="RoIAlign", output_size=7, sampling_ratio=2),
                                out_channels=C, featmap_strides=[4, 8]),
        bbox_head=dii, train_cfg=[stage_cfg] * num_stages, test_cfg=dict(max_per_img=4))
    head.init_weights()
    return head


def inputs():
    x = (torch.randn(2, C, 16, 16), torch.randn(2, C, 8, 8))
    boxes = torch.tensor([[0.0, 0.0, 64.0, 64.0], [10.0, 10.0, 40.0, 50.0],
                          [30.0, 5.0, 60.0, 30.0]]).repeat(2, 1, 1)
    feats = torch.randn(2, 3, C)
    metas = [dict(img_shape=(64, 64, 3), scale_factor=np.array([2.0] * 4, np.float32))] * 2
    whwh = torch.tensor([64.0, 64.0, 64.0, 64.0]).view(1, 1, 4).repeat(2, 1, 1)
    return x, boxes, feats, metas, whwh


def test_losses_of_every_stage_with_weights():
    head = roi_head()
    x, boxes, feats, metas, whwh = inputs()
    losses = head.forward_train(x, boxes, feats, metas,
                                [torch.tensor([[8.0, 8.0, 40.0, 50.0]]), torch.zeros(0, 4)],
                                [torch.tensor([1]), torch.zeros(0, dtype=torch.long)],
                                imgs_whwh=whwh)
    assert sorted(losses) == sorted(f"stage{s}_{k}" for s in (0, 1)
                                    for k in ("loss_cls", "pos_acc", "loss_bbox", "loss_iou"))
    sum(v for k, v in losses.items() if "loss" in k).backward()


def test_test_output_is_the_top_k_pairs_per_image():
    head = roi_head().eval()
    x, boxes, feats, metas, whwh = inputs()
    with torch.no_grad():
        result = head.simple_test(x, boxes, feats, metas, imgs_whwh=whwh, rescale=True)
        plain = head.simple_test(x, boxes, feats, metas, imgs_whwh=whwh, rescale=False)
    assert len(result) == 2 and len(result[0]) == 3
    assert sum(len(r) for r in result[0]) == 4
    dets = np.concatenate(result[0])
    np.testing.assert_allclose(np.sort(dets[:, 0]), np.sort(np.concatenate(plain[0])[:, 0]) / 2,
                               rtol=1e-6)
    with pytest.raises(NotImplementedError):
        head.aug_test(x, boxes, metas)
