"""ATSSHead: layout, centerness targets, targets through the ATSS assigner, losses."""

import math

import pytest
import torch

from detbox.models.dense_heads import ATSSHead

ANCHORS = dict(type="AnchorGenerator", ratios=[1.0], octave_base_scale=8, scales_per_octave=1,
               strides=[8, 16])
TRAIN_CFG = dict(assigner=dict(type="ATSSAssigner", topk=9), allowed_border=-1, pos_weight=-1,
                 debug=False)


def head(**kwargs):
    args = dict(num_classes=3, in_channels=8, feat_channels=8, stacked_convs=1,
                anchor_generator=ANCHORS, train_cfg=TRAIN_CFG,
                norm_cfg=dict(type="GN", num_groups=4),
                bbox_coder=dict(type="DeltaXYWHBBoxCoder", target_means=[0.0] * 4,
                                target_stds=[0.1, 0.1, 0.2, 0.2]),
                loss_cls=dict(type="FocalLoss", use_sigmoid=True, gamma=2.0, alpha=0.25,
                              loss_weight=1.0),
                loss_bbox=dict(type="GIoULoss", loss_weight=2.0))
    args.update(kwargs)
    return ATSSHead(**args)


def test_layout_and_kernel_size():
    sd = head(pred_kernel_size=1).state_dict()
    assert tuple(sd["atss_cls.weight"].shape) == (3, 8, 1, 1)
    assert tuple(sd["atss_reg.weight"].shape) == (4, 8, 1, 1)
    assert tuple(sd["atss_centerness.weight"].shape) == (1, 8, 1, 1)
    assert {"scales.0.scale", "scales.1.scale", "cls_convs.0.gn.weight"} <= set(sd)
    assert "cls_convs.0.conv.bias" not in sd  # a norm, so no conv bias


def test_centerness_target():
    anchors = torch.tensor([[0.0, 0.0, 10.0, 10.0], [10.0, 0.0, 30.0, 20.0]])
    gts = torch.tensor([[0.0, 0.0, 20.0, 10.0], [10.0, 0.0, 30.0, 20.0]])
    # anchor 0 center (5, 5): l 5, r 15, t 5, b 5 -> sqrt(1/3); anchor 1 centred in its gt: 1
    assert head().centerness_target(anchors, gts).tolist() == pytest.approx(
        [math.sqrt(1 / 3), 1.0])


def test_targets_and_losses():
    atss = head()
    atss.init_weights()
    torch.manual_seed(0)
    outs = atss([torch.randn(1, 8, 8, 8), torch.randn(1, 8, 4, 4)])
    meta = dict(img_shape=(64, 64, 3), pad_shape=(64, 64, 3))
    # 64 px anchors at multiples of 8 (level 0); the six whose centers are (32..40, 24..40)
    # overlap this box with IoU 0.464, above mean + std of the 18 candidates
    gt = [torch.tensor([[10.0, 12.0, 60.0, 50.0]])]
    anchors, flags = atss.get_anchors([(8, 8), (4, 4)], [meta])
    targets = atss.get_targets(anchors, flags, gt, [meta], gt_labels_list=[torch.tensor([2])])
    level_anchors, labels, _, bbox_targets, _, num_pos, _ = targets
    assert [a.shape for a in level_anchors] == [(1, 64, 4), (1, 16, 4)]
    positives = torch.cat(labels, 1)[0] == 2
    assert positives.nonzero().view(-1).tolist() == [28, 29, 36, 37, 44, 45] and num_pos == 6
    assert (torch.cat(bbox_targets, 1)[0][positives] == gt[0]).all()  # decoded-box targets
    losses = atss.loss(*outs, gt, [torch.tensor([2])], [meta])
    assert set(losses) == {"loss_cls", "loss_bbox", "loss_centerness"}
    assert sum(losses["loss_bbox"]) > 0 and sum(losses["loss_centerness"]) > 0
