"""TOODHead: geometric mean, deform sampling, task decomposition, the ATSS -> aligned switch."""

import pytest
import torch
import torch.nn.functional as F

from detbox.models.dense_heads import TOODHead
from detbox.models.dense_heads.tood_head import TaskDecomposition, sigmoid_geometric_mean

ANCHORS = dict(type="AnchorGenerator", ratios=[1.0], octave_base_scale=8, scales_per_octave=1,
               strides=[8, 16])
TRAIN_CFG = dict(initial_epoch=4, initial_assigner=dict(type="ATSSAssigner", topk=9),
                 assigner=dict(type="TaskAlignedAssigner", topk=13), alpha=1, beta=6,
                 allowed_border=-1, pos_weight=-1, debug=False)


def head(**kwargs):
    args = dict(num_classes=3, in_channels=8, feat_channels=8, stacked_convs=2,
                anchor_generator=ANCHORS, train_cfg=TRAIN_CFG,
                norm_cfg=dict(type="GN", num_groups=4),
                bbox_coder=dict(type="DeltaXYWHBBoxCoder", target_means=[0.0] * 4,
                                target_stds=[0.1, 0.1, 0.2, 0.2]),
                loss_cls=dict(type="QualityFocalLoss", use_sigmoid=True, activated=True,
                              beta=2.0, loss_weight=1.0),
                loss_bbox=dict(type="GIoULoss", loss_weight=2.0))
    args.update(kwargs)
    tood = TOODHead(**args)
    tood.init_weights()
    return tood


def test_sigmoid_geometric_mean_and_its_gradient():
    x = torch.tensor([-3.0, 0.0, 2.0], requires_grad=True)
    y = torch.tensor([1.0, -1.0, 0.5], requires_grad=True)
    z = sigmoid_geometric_mean(x, y)
    x2, y2 = x.detach().clone().requires_grad_(), y.detach().clone().requires_grad_()
    z2 = (x2.sigmoid() * y2.sigmoid()).sqrt()
    torch.testing.assert_close(z, z2)
    z.sum().backward()
    z2.sum().backward()
    torch.testing.assert_close(x.grad, x2.grad)
    torch.testing.assert_close(y.grad, y2.grad)


def test_deform_sampling_moves_each_channel_by_its_own_offset():
    tood = head()
    feat = torch.randn(1, 4, 5, 6)
    torch.testing.assert_close(tood.deform_sampling(feat, torch.zeros(1, 8, 5, 6)), feat)
    offset = torch.zeros(1, 8, 5, 6)
    offset[:, 3] = 1.0  # channel 1: dx = +1
    out = tood.deform_sampling(feat, offset)
    torch.testing.assert_close(out[0, 1, :, :-1], feat[0, 1, :, 1:])
    torch.testing.assert_close(out[:, [0, 2, 3]], feat[:, [0, 2, 3]])


def test_task_decomposition_is_a_layer_weighted_reduction_conv():
    torch.manual_seed(0)
    decomp = TaskDecomposition(4, 3, la_down_rate=2, norm_cfg=None)
    decomp.init_weights()
    feat = torch.randn(2, 12, 5, 5)
    weight = decomp.layer_attention(F.adaptive_avg_pool2d(feat, 1))  # [2, 3, 1, 1]
    scaled = feat.reshape(2, 3, 4, 5, 5) * weight.reshape(2, 3, 1, 1, 1)
    expected = F.relu(F.conv2d(scaled.reshape(2, 12, 5, 5), decomp.reduction_conv.conv.weight,
                               decomp.reduction_conv.conv.bias))
    torch.testing.assert_close(decomp(feat), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("anchor_type", ["anchor_free", "anchor_based"])
def test_forward_gives_probabilities_and_boxes_in_strides(anchor_type):
    tood = head(anchor_type=anchor_type)
    cls, boxes = tood([torch.randn(2, 8, 8, 8), torch.randn(2, 8, 4, 4)])
    assert [tuple(c.shape) for c in cls] == [(2, 3, 8, 8), (2, 3, 4, 4)]
    assert [tuple(b.shape) for b in boxes] == [(2, 4, 8, 8), (2, 4, 4, 4)]
    assert all(((c > 0) & (c < 1)).all() for c in cls)
    assert all((b[:, 2] >= b[:, 0]).all() and (b[:, 3] >= b[:, 1]).all() for b in boxes)


def test_epoch_switches_from_atss_targets_to_task_aligned_ones():
    tood = head()
    torch.manual_seed(0)
    cls, boxes = tood([torch.randn(1, 8, 8, 8), torch.randn(1, 8, 4, 4)])
    meta = dict(img_shape=(64, 64, 3), pad_shape=(64, 64, 3))
    gt, labels = [torch.tensor([[10.0, 12.0, 60.0, 50.0]])], [torch.tensor([2])]
    anchors, flags = tood.get_anchors([(8, 8), (4, 4)], [meta])
    flat_cls = torch.cat([c.permute(0, 2, 3, 1).reshape(1, -1, 3) for c in cls], 1)
    flat_box = torch.cat([b.permute(0, 2, 3, 1).reshape(1, -1, 4) * s
                          for b, s in zip(boxes, (8, 16))], 1)
    atss = tood.get_targets(flat_cls, flat_box, anchors, flags, gt, [meta], gt_labels_list=labels)
    positives = torch.cat(atss[1], 1) == 2
    metrics = torch.cat(atss[4], 1)
    assert positives.sum() == 6 and (metrics[positives] == 1).all()
    assert (metrics[~positives] == 0).all()
    losses = tood.loss(cls, boxes, gt, labels, [meta])
    assert set(losses) == {"loss_cls", "loss_bbox"}
    tood.epoch = 4
    aligned = tood.get_targets(flat_cls, flat_box, anchors, flags, gt, [meta],
                               gt_labels_list=labels)
    positives = torch.cat(aligned[1], 1) == 2
    metrics = torch.cat(aligned[4], 1)
    assert 0 < positives.sum() <= 13
    assert (metrics[positives] <= 1).all() and (metrics[~positives] == 0).all()
    # normalised: the best positive's metric is the best IoU among the positives
    losses = tood.loss(cls, boxes, gt, labels, [meta])
    total = sum(sum(v) for v in losses.values())
    assert torch.isfinite(total)
    total.backward()
    assert tood.reg_offset_module[-1].weight.grad.abs().sum() > 0


def test_bad_anchor_type_is_a_clear_error():
    with pytest.raises(AssertionError, match="anchor_type"):
        head(anchor_type="anchorless")
