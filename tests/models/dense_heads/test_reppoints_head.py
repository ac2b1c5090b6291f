"""RepPointsHead: point-set to box transforms, grid points, two-stage targets, decoding."""

import pytest
import torch

from detbox.models.dense_heads import RepPointsHead

TRAIN_CFG = dict(
    init=dict(assigner=dict(type="PointAssigner", scale=4, pos_num=1), allowed_border=-1,
              pos_weight=-1, debug=False),
    refine=dict(assigner=dict(type="MaxIoUAssigner", pos_iou_thr=0.5, neg_iou_thr=0.4,
                              min_pos_iou=0, ignore_iof_thr=-1),
                allowed_border=-1, pos_weight=-1, debug=False))
TEST_CFG = dict(nms_pre=1000, min_bbox_size=0, score_thr=0.05,
                nms=dict(type="nms", iou_threshold=0.5), max_per_img=100)


def head(**kwargs):
    torch.manual_seed(0)
    args = dict(num_classes=2, in_channels=8, feat_channels=8, point_feat_channels=8,
                stacked_convs=1, point_strides=[8, 16], train_cfg=TRAIN_CFG, test_cfg=TEST_CFG)
    args.update(kwargs)
    rep = RepPointsHead(**args)
    rep.init_weights()
    return rep


def test_points2bbox():
    pts = torch.tensor([[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0,
                         13.0, 14.0, 15.0, 16.0, 17.0]])  # (y, x) pairs
    minmax = head(transform_method="minmax").points2bbox(pts.view(1, 18, 1, 1))
    assert minmax.view(-1).tolist() == [1.0, 0.0, 17.0, 16.0]
    partial = head(transform_method="partial_minmax").points2bbox(pts.view(1, 18, 1, 1))
    assert partial.view(-1).tolist() == [1.0, 0.0, 7.0, 6.0]
    moment = head().points2bbox(pts.view(1, 18, 1, 1)).view(-1)  # moment_transfer = 0
    std = float(torch.arange(0.0, 18.0, 2).std())
    assert moment.tolist() == pytest.approx([9 - std, 8 - std, 9 + std, 8 + std])
    assert "moment_transfer" in head().state_dict()


def test_training_and_eval_outputs():
    rep = head(use_grid_points=True, transform_method="minmax")
    feats = [torch.randn(2, 8, 8, 8), torch.randn(2, 8, 4, 4)]
    cls, pts_init, pts_refine = rep(feats)
    assert cls[0].shape == (2, 2, 8, 8) and pts_init[1].shape == (2, 18, 4, 4)
    rep.eval()
    cls, bbox = rep(feats)
    assert bbox[0].shape == (2, 4, 8, 8) and (bbox[0][:, 2:] >= bbox[0][:, :2]).all()


@pytest.mark.parametrize("init_assigner", ["PointAssigner", "MaxIoUAssigner"])
def test_losses(init_assigner):
    train_cfg = dict(TRAIN_CFG)
    if init_assigner == "MaxIoUAssigner":
        train_cfg["init"] = dict(TRAIN_CFG["refine"])
    rep = head(train_cfg=train_cfg)
    outs = rep([torch.randn(2, 8, 8, 8), torch.randn(2, 8, 4, 4)])
    meta = dict(img_shape=(64, 64, 3), pad_shape=(64, 64, 3))
    gts = [torch.tensor([[8.0, 8.0, 40.0, 40.0]]), torch.tensor([[0.0, 0.0, 60.0, 30.0]])]
    losses = rep.loss(*outs, gts, [torch.tensor([0]), torch.tensor([1])], [meta, meta])
    assert set(losses) == {"loss_cls", "loss_pts_init", "loss_pts_refine"}
    assert sum(losses["loss_pts_init"]) > 0 and sum(losses["loss_cls"]) > 0
    sum(sum(v) for v in losses.values()).backward()
    assert rep.moment_transfer.grad is not None


def test_decoding_around_offset_free_points():
    rep = head()
    rep.eval()
    points = torch.tensor([[8.0, 16.0]])
    boxes = rep._decode_level(points, torch.tensor([[-1.0, -1.0, 2.0, 10.0]]), 1, (40, 50))
    assert boxes.tolist() == [[0.0, 0.0, 40.0, 40.0]]  # stride 16, clamped to 50 x 40
    meta = dict(img_shape=(64, 64, 3), pad_shape=(64, 64, 3), scale_factor=[1.0] * 4)
    with torch.no_grad():
        rep.reppoints_cls_out.bias.fill_(3.0)
        dets, labels = rep.simple_test([torch.randn(1, 8, 8, 8), torch.randn(1, 8, 4, 4)],
                                       [meta])[0]
    assert 0 < len(dets) <= 100 and (dets[:, :4] <= 64).all()
