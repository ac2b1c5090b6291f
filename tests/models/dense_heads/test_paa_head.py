"""PAAHead: re-assignment by the mixture, losses, score voting."""

import torch

from detbox.models.dense_heads import PAAHead

TRAIN_CFG = dict(assigner=dict(type="MaxIoUAssigner", pos_iou_thr=0.1, neg_iou_thr=0.1,
                               min_pos_iou=0, ignore_iof_thr=-1),
                 allowed_border=-1, pos_weight=-1, debug=False)
TEST_CFG = dict(nms_pre=1000, min_bbox_size=0, score_thr=0.05,
                nms=dict(type="nms", iou_threshold=0.6), max_per_img=100)


def head(**kwargs):
    torch.manual_seed(0)
    paa = PAAHead(num_classes=2, in_channels=8, feat_channels=8, stacked_convs=1,
                  norm_cfg=dict(type="GN", num_groups=4), train_cfg=TRAIN_CFG,
                  test_cfg=TEST_CFG, topk=9,
                  anchor_generator=dict(type="AnchorGenerator", ratios=[1.0],
                                        octave_base_scale=8, scales_per_octave=1,
                                        strides=[8, 16]),
                  bbox_coder=dict(type="DeltaXYWHBBoxCoder", target_means=[0.0] * 4,
                                  target_stds=[0.1, 0.1, 0.2, 0.2]),
                  loss_cls=dict(type="FocalLoss", use_sigmoid=True),
                  loss_bbox=dict(type="GIoULoss", loss_weight=1.3),
                  loss_centerness=dict(type="CrossEntropyLoss", use_sigmoid=True,
                                       loss_weight=0.5), **kwargs)
    paa.init_weights()
    return paa


def test_reassignment_keeps_a_subset_of_the_candidates():
    paa = head()
    losses = torch.tensor([0.1, 0.2, 0.15, 2.0, 2.5, 0.12, 3.0])
    pos_inds = torch.tensor([3, 5, 8, 10, 70, 72, 75])  # levels: 64 + 16 anchors
    gt_inds = torch.tensor([0, 0, 0, 0, 0, 0, 0])
    label = torch.full((80,), 2)
    label[pos_inds] = 1
    weight = torch.ones(80)
    bbox_weight = torch.ones(80, 4)
    anchors = [torch.zeros(64, 4), torch.zeros(16, 4)]
    new_label, _, new_bbox_weight, num_pos = paa.paa_reassign(
        losses, label, weight, bbox_weight, pos_inds, gt_inds, anchors)
    kept = (new_label == 1).nonzero().view(-1).tolist()
    # component 0 holds the four low losses (mean 0.1425); sorted by loss (0.1, 0.12, 0.15, 0.2)
    # they stay positive up to the most likely one, 0.15 (anchor 8)
    assert kept == [3, 8, 72] and num_pos == 3
    assert (new_bbox_weight[[5, 10, 70, 75]] == 0).all()
    assert (new_label[[5, 10, 70, 75]] == 2).all()


def test_losses_and_inference():
    paa = head()
    outs = paa([torch.randn(2, 8, 8, 8), torch.randn(2, 8, 4, 4)])
    meta = dict(img_shape=(64, 64, 3), pad_shape=(64, 64, 3), scale_factor=[1.0] * 4)
    gts = [torch.tensor([[8.0, 8.0, 40.0, 40.0]]), torch.tensor([[0.0, 0.0, 60.0, 30.0]])]
    losses = paa.loss(*outs, gts, [torch.tensor([0]), torch.tensor([1])], [meta, meta])
    assert set(losses) == {"loss_cls", "loss_bbox", "loss_iou"}
    assert all(v > 0 for v in losses.values())
    with torch.no_grad():
        paa.atss_cls.bias.fill_(2.0)  # every score high: many candidates for the voting
        dets, labels = paa.simple_test([torch.randn(1, 8, 8, 8), torch.randn(1, 8, 4, 4)],
                                       [meta])[0]
    assert 0 < len(dets) <= 100 and dets.shape[1] == 5
    assert labels.tolist() == sorted(labels.tolist())  # score voting groups by class
    assert (dets[:, :4] >= 0).all() and (dets[:, :4] <= 64).all()


def test_without_score_voting_boxes_are_the_nms_survivors():
    voting, plain = head(), head(score_voting=False)
    plain.load_state_dict(voting.state_dict())
    feats = [torch.randn(1, 8, 8, 8), torch.randn(1, 8, 4, 4)]
    meta = dict(img_shape=(64, 64, 3), pad_shape=(64, 64, 3), scale_factor=[1.0] * 4)
    with torch.no_grad():
        for h in (voting, plain):
            h.atss_cls.bias.fill_(2.0)
        d_vote, _ = voting.simple_test(feats, [meta])[0]
        d_plain, _ = plain.simple_test(feats, [meta])[0]
    assert len(d_vote) == len(d_plain)
    assert sorted(d_vote[:, 4].tolist()) == sorted(d_plain[:, 4].tolist())  # scores kept
    assert not torch.allclose(d_vote[:, :4].sort(0)[0], d_plain[:, :4].sort(0)[0])
