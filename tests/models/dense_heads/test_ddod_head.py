"""DDODHead: layout (DCN first conv, IoU branch), two assignments, level re-weighting."""

import pytest
import torch

from detbox.models.dense_heads import DDODHead

TRAIN_CFG = dict(assigner=dict(type="ATSSAssigner", topk=9, alpha=0.8),
                 reg_assigner=dict(type="ATSSAssigner", topk=9, alpha=0.5),
                 allowed_border=-1, pos_weight=-1, debug=False)


def head():
    torch.manual_seed(0)
    ddod = DDODHead(num_classes=2, in_channels=8, feat_channels=8, stacked_convs=2,
                    norm_cfg=dict(type="GN", num_groups=4), train_cfg=TRAIN_CFG,
                    anchor_generator=dict(type="AnchorGenerator", ratios=[1.0],
                                          octave_base_scale=8, scales_per_octave=1,
                                          strides=[8, 16]),
                    bbox_coder=dict(type="DeltaXYWHBBoxCoder", target_stds=[0.1, 0.1, 0.2, 0.2]),
                    loss_cls=dict(type="FocalLoss", use_sigmoid=True),
                    loss_bbox=dict(type="GIoULoss", loss_weight=2.0))
    ddod.init_weights()
    return ddod


def test_layout_and_reweighting():
    ddod = head()
    keys = set(ddod.state_dict())
    assert {"cls_convs.0.conv.conv_offset.weight", "reg_convs.1.conv.weight",
            "atss_iou.weight", "scales.1.scale"} <= keys
    labels = [torch.tensor([0, 2, 1, 2]), torch.tensor([2, 2])]  # 2 positives, then 0
    assert ddod.calc_reweight_factor(labels) == pytest.approx([1.0, 2.0])
    assert ddod.cls_num_pos_samples_per_level == [2.0, 0.0]  # accumulated over calls


def test_losses():
    ddod = head()
    outs = ddod([torch.randn(2, 8, 8, 8), torch.randn(2, 8, 4, 4)])
    meta = dict(img_shape=(64, 64, 3), pad_shape=(64, 64, 3))
    gts = [torch.tensor([[8.0, 8.0, 40.0, 40.0]]), torch.tensor([[0.0, 0.0, 60.0, 30.0]])]
    losses = ddod.loss(*outs, gts, [torch.tensor([0]), torch.tensor([1])], [meta, meta])
    assert set(losses) == {"loss_cls", "loss_bbox", "loss_iou"}
    assert sum(losses["loss_bbox"]) > 0 and sum(losses["loss_iou"]) > 0
    assert sum(ddod.cls_num_pos_samples_per_level) > 0
