"""YOLOFHead: objectness-normalised scores, uniform matching losses."""

import torch

from detbox.models.dense_heads import YOLOFHead

TRAIN_CFG = dict(assigner=dict(type="UniformAssigner", pos_ignore_thr=0.15, neg_ignore_thr=0.7),
                 allowed_border=-1, pos_weight=-1, debug=False)


def head():
    torch.manual_seed(0)
    yolof = YOLOFHead(num_classes=2, in_channels=8, num_cls_convs=1, num_reg_convs=1,
                      reg_decoded_bbox=True, train_cfg=TRAIN_CFG,
                      anchor_generator=dict(type="AnchorGenerator", ratios=[1.0],
                                            scales=[1, 2, 4], strides=[16]),
                      bbox_coder=dict(type="DeltaXYWHBBoxCoder", add_ctr_clamp=True,
                                      ctr_clamp=32),
                      loss_cls=dict(type="FocalLoss", use_sigmoid=True),
                      loss_bbox=dict(type="GIoULoss", loss_weight=1.0))
    yolof.init_weights()
    return yolof


def test_normalised_score_is_log_of_product_of_sigmoids():
    yolof = head()
    x = torch.randn(1, 8, 4, 4)
    cls, _ = yolof([x])
    raw = yolof.cls_score(yolof.cls_subnet(x)).view(1, 3, 2, 4, 4)
    obj = yolof.object_pred(yolof.bbox_subnet(x)).view(1, 3, 1, 4, 4)
    expected = torch.log(torch.sigmoid(raw) * torch.sigmoid(obj)
                         / (1 - torch.sigmoid(raw) * torch.sigmoid(obj)))
    assert torch.allclose(cls[0], expected.view(1, 6, 4, 4), atol=1e-5)
    assert yolof.cls_score.bias[0].item() < -4  # prior probability 0.01


def test_losses():
    yolof = head()
    outs = yolof([torch.randn(2, 8, 4, 4)])
    meta = dict(img_shape=(64, 64, 3), pad_shape=(64, 64, 3))
    gts = [torch.tensor([[8.0, 8.0, 40.0, 40.0]]), torch.tensor([[0.0, 0.0, 60.0, 30.0]])]
    losses = yolof.loss(*outs, gts, [torch.tensor([0]), torch.tensor([1])], [meta, meta])
    assert losses["loss_cls"] > 0 and losses["loss_bbox"] > 0
    empty = yolof.loss(*outs, [torch.zeros(0, 4)] * 2, [torch.zeros(0).long()] * 2,
                       [meta, meta])
    assert empty["loss_bbox"] == 0 and empty["loss_cls"] > 0
