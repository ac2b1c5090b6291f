"""AutoAssignHead: center prior, init, losses with and without ground truths."""

import torch

from detbox.models.dense_heads import AutoAssignHead
from detbox.models.dense_heads.autoassign_head import CenterPrior


def test_center_prior_weights_inside_boxes_only():
    prior = CenterPrior(num_classes=2, strides=[8])
    points = [torch.tensor([[20.0, 20.0], [28.0, 20.0], [100.0, 100.0]])]
    gt = torch.tensor([[10.0, 10.0, 30.0, 30.0]])  # center (20, 20)
    inside = torch.tensor([[True], [True], [False]])
    weights, mask = prior(points, gt, torch.tensor([1]), inside)
    # exp(-(dx / 8)^2 / 2): 1 at the center, exp(-0.5) one stride away, 0 outside
    assert torch.allclose(weights[:, 0], torch.tensor([1.0, float(torch.exp(torch.tensor(-0.5))),
                                                       0.0]))
    forced = CenterPrior(force_topk=True, topk=1, num_classes=2, strides=[8])
    _, mask = forced(points, gt, torch.tensor([1]), torch.zeros(3, 1, dtype=torch.bool))
    assert mask[:, 0].tolist() == [True, False, False]


def test_init_outputs_and_losses():
    torch.manual_seed(0)
    head = AutoAssignHead(num_classes=2, in_channels=8, feat_channels=8, stacked_convs=1,
                          strides=[8, 16], norm_cfg=dict(type="GN", num_groups=4),
                          loss_bbox=dict(type="GIoULoss", loss_weight=5.0))
    head.init_weights()
    assert torch.allclose(head.conv_reg.bias, torch.full((4,), 4.0))
    assert "center_prior.mean" in head.state_dict() and "cls_convs.0.conv.bias" in head.state_dict()
    cls, reg, obj = head([torch.randn(2, 8, 8, 8), torch.randn(2, 8, 4, 4)])
    assert (reg[1] >= 0).all() and obj[0].shape == (2, 1, 8, 8)
    gts = [torch.tensor([[8.0, 8.0, 40.0, 40.0]]), torch.zeros(0, 4)]
    losses = head.loss(cls, reg, obj, gts, [torch.tensor([1]), torch.zeros(0).long()], [{}, {}])
    assert set(losses) == {"loss_pos", "loss_neg", "loss_center"}
    assert all(v > 0 for v in losses.values())
    sum(losses.values()).backward()
    assert head.center_prior.sigma.grad is not None
