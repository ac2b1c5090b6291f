"""FSAFHead: ReLU regression, shadowed label weights, online feature selection of levels."""

import torch

from detbox.models.dense_heads import FSAFHead

ANCHORS = dict(type="AnchorGenerator", octave_base_scale=1, scales_per_octave=1, ratios=[1.0],
               strides=[8, 16])
TRAIN_CFG = dict(assigner=dict(type="CenterRegionAssigner", pos_scale=0.2, neg_scale=0.5,
                               min_pos_iof=0.01), allowed_border=-1, pos_weight=-1, debug=False)


def head():
    torch.manual_seed(0)
    fsaf = FSAFHead(num_classes=3, in_channels=8, feat_channels=8, stacked_convs=1,
                    reg_decoded_bbox=True, anchor_generator=ANCHORS, train_cfg=TRAIN_CFG,
                    bbox_coder=dict(type="TBLRBBoxCoder", normalizer=4.0),
                    loss_cls=dict(type="FocalLoss", use_sigmoid=True, reduction="none"),
                    loss_bbox=dict(type="IoULoss", eps=1e-6, reduction="none"))
    fsaf.init_weights()
    return fsaf


def test_init_and_outputs():
    fsaf = head()
    assert torch.allclose(fsaf.retina_reg.bias, torch.full((4,), 0.25))
    cls, reg = fsaf([torch.randn(2, 8, 8, 8), torch.randn(2, 8, 4, 4)])
    assert cls[0].shape == (2, 3, 8, 8) and reg[1].shape == (2, 4, 4, 4)
    assert all((r >= 0).all() for r in reg)


def test_targets_carry_shadowed_weights_and_gt_indices():
    fsaf = head()
    meta = dict(img_shape=(64, 64, 3), pad_shape=(64, 64, 3))
    anchors, flags = fsaf.get_anchors([(8, 8), (4, 4)], [meta])
    gt = [torch.tensor([[0.0, 0.0, 64.0, 64.0]])]
    (labels, weights, _, _, num_pos, _, gt_inds) = fsaf.get_targets(
        anchors, flags, gt, [meta], gt_labels_list=[torch.tensor([1])], label_channels=3)
    assert weights[0].shape == (1, 64, 3) and gt_inds[0].shape == (1, 64)
    pos = (labels[0][0] == 1).nonzero().view(-1).tolist()
    # anchors (8 px, centered on multiples of 8) overlapping the core 25.6..38.4: x, y in 24..40
    assert pos == [27, 28, 29, 35, 36, 37, 43, 44, 45] and (gt_inds[0][0][pos] == 0).all()
    assert (gt_inds[0][0][labels[0][0] == 3] == -1).all()
    shadowed = (weights[0][0][:, 1] == 0) & (labels[0][0] == 3)  # class 1 weight 0 in shadow
    assert shadowed.sum() > 0 and (weights[0][0][shadowed][:, [0, 2]] == 1).all()
    assert num_pos == 9 + 1  # and the 16 px anchor centered at (32, 32) of level 1


def test_each_ground_truth_keeps_its_best_level():
    fsaf = head()
    meta = dict(img_shape=(64, 64, 3), pad_shape=(64, 64, 3))
    outs = fsaf([torch.randn(2, 8, 8, 8), torch.randn(2, 8, 4, 4)])
    gts = [torch.tensor([[0.0, 0.0, 64.0, 64.0]]), torch.tensor([[8.0, 8.0, 40.0, 40.0]])]
    losses = fsaf.loss(*outs, gts, [torch.tensor([1]), torch.tensor([2])], [meta, meta])
    assert set(losses) == {"loss_cls", "loss_bbox", "num_pos", "pos_recall"}
    # each gt keeps the positives of one level only: num_pos per image is below all candidates
    assert 0 < float(losses["num_pos"]) < 8
    assert all(torch.isfinite(v) for v in losses["loss_cls"] + losses["loss_bbox"])
    assert sum(losses["loss_bbox"]) > 0
    empty = fsaf.loss(*outs, [torch.zeros(0, 4)] * 2, [torch.zeros(0).long()] * 2,
                      [meta, meta])
    assert sum(empty["loss_bbox"]) == 0 and sum(empty["loss_cls"]) > 0
