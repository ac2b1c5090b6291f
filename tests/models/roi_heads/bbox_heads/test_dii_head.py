"""DIIHead: layout, shapes, targets in proposal order, losses normalised by the image size."""

import torch

from detbox.models.roi_heads import DIIHead
from detbox.models.task_modules import AssignResult, PseudoSampler


def head():
    torch.manual_seed(0)
    h = DIIHead(num_classes=3, num_heads=2, feedforward_channels=32, in_channels=16,
                dynamic_conv_cfg=dict(type="DynamicConv", in_channels=16, feat_channels=4,
                                      out_channels=16, input_feat_shape=3),
                loss_cls=dict(type="FocalLoss", use_sigmoid=True, loss_weight=2.0),
                loss_bbox=dict(type="L1Loss", loss_weight=5.0),
                bbox_coder=dict(type="DeltaXYWHBBoxCoder", target_means=[0.0] * 4,
                                target_stds=[0.5, 0.5, 1.0, 1.0]), roi_feat_size=3)
    h.init_weights()
    return h


def test_layout_and_forward_shapes():
    h = head()
    keys = h.state_dict()
    assert keys["attention.attn.in_proj_weight"].shape == (48, 16)
    assert keys["instance_interactive_conv.dynamic_layer.weight"].shape == (2 * 16 * 4, 16)
    assert keys["instance_interactive_conv.fc_layer.weight"].shape == (16, 16 * 9)
    assert keys["fc_cls.weight"].shape == (3, 16) and keys["fc_reg.weight"].shape == (4, 16)
    assert [type(m).__name__ for m in h.reg_fcs] == ["Linear", "LayerNorm", "ReLU"] * 3
    cls, delta, obj, attn = h(torch.randn(2 * 5, 16, 3, 3), torch.randn(2, 5, 16))
    assert cls.shape == (2, 5, 3) and delta.shape == (2, 5, 4) and obj.shape == (2, 5, 16)
    assert attn.shape == (2, 5, 16)


def test_targets_keep_proposal_order_and_losses():
    h = head()
    bboxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [5.0, 5.0, 20.0, 20.0], [1.0, 1.0, 4.0, 4.0]])
    gts = torch.tensor([[4.0, 4.0, 21.0, 19.0]])
    assign = AssignResult(1, torch.tensor([0, 1, 0]), None, labels=torch.tensor([-1, 2, -1]))
    res = PseudoSampler().sample(assign, bboxes, gts)
    res.pos_gt_labels = torch.tensor([2])
    labels, label_w, targets, target_w = h.get_targets([res], [gts], [torch.tensor([2])],
                                                       dict(pos_weight=1))
    assert labels.tolist() == [3, 2, 3] and label_w.tolist() == [1.0, 1.0, 1.0]
    torch.testing.assert_close(targets[1], gts[0])
    whwh = torch.tensor([40.0, 20.0, 40.0, 20.0]).repeat(3, 1)
    pred = bboxes.clone().requires_grad_()
    losses = h.loss(torch.zeros(3, 3), pred, labels, label_w, targets, target_w,
                    imgs_whwh=whwh)
    expected_l1 = 5.0 * float(((bboxes[1] - gts[0]).abs() / whwh[0]).sum())
    assert abs(float(losses["loss_bbox"].detach()) - expected_l1) < 1e-5
    assert set(losses) == {"loss_cls", "pos_acc", "loss_bbox", "loss_iou"}
