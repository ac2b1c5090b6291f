"""FreeAnchorRetinaHead: bag losses and the box-probability map."""

import torch

from detbox.models.dense_heads import FreeAnchorRetinaHead


def head():
    torch.manual_seed(0)
    return FreeAnchorRetinaHead(
        num_classes=3, in_channels=8, feat_channels=8, stacked_convs=1, pre_anchor_topk=5,
        anchor_generator=dict(type="AnchorGenerator", octave_base_scale=4, scales_per_octave=1,
                              ratios=[1.0], strides=[8, 16]),
        bbox_coder=dict(type="DeltaXYWHBBoxCoder", target_stds=[0.1, 0.1, 0.2, 0.2]),
        loss_bbox=dict(type="SmoothL1Loss", beta=0.11, loss_weight=0.75))


def test_box_prob_per_class():
    fa = head()
    anchors = torch.tensor([[0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 9.0, 10.0], [50, 50, 60, 60.0]])
    gts = torch.tensor([[0.0, 0.0, 10.0, 10.0]])
    prob = fa._box_prob(anchors, torch.zeros(3, 4), gts, torch.tensor([2]))
    # IoU 1 -> 1; IoU 0.9 -> (0.9 - 0.6) / (1 - 0.6) = 0.75; no overlap -> 0; other classes 0
    assert torch.allclose(prob[:, 2], torch.tensor([1.0, 0.75, 0.0]))
    assert prob[:, :2].abs().max() == 0


def test_losses():
    fa = head()
    outs = fa([torch.randn(2, 8, 8, 8), torch.randn(2, 8, 4, 4)])
    meta = dict(img_shape=(64, 64, 3), pad_shape=(64, 64, 3))
    gts = [torch.tensor([[8.0, 8.0, 40.0, 40.0]]), torch.tensor([[0.0, 0.0, 60.0, 30.0]])]
    losses = fa.loss(*outs, gts, [torch.tensor([0]), torch.tensor([2])], [meta, meta])
    assert set(losses) == {"positive_bag_loss", "negative_bag_loss"}
    assert losses["positive_bag_loss"] > 0 and losses["negative_bag_loss"] > 0
    (losses["positive_bag_loss"] + losses["negative_bag_loss"]).backward()
    empty = fa.loss(*fa([torch.randn(1, 8, 8, 8), torch.randn(1, 8, 4, 4)]),
                    [torch.zeros(0, 4)], [torch.zeros(0).long()], [meta])
    assert empty["positive_bag_loss"] == 0
