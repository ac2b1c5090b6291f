"""GFLHead: Integral, layout, losses (QFL, GIoU, DFL) and decoding of the distributions."""

import numpy as np
import pytest
import torch

from detbox.models.dense_heads import GFLHead
from detbox.models.dense_heads.gfl_head import Integral

ANCHORS = dict(type="AnchorGenerator", ratios=[1.0], octave_base_scale=8, scales_per_octave=1,
               strides=[8, 16])
TRAIN_CFG = dict(assigner=dict(type="ATSSAssigner", topk=9), allowed_border=-1, pos_weight=-1,
                 debug=False)
TEST_CFG = dict(nms_pre=1000, min_bbox_size=0, score_thr=0.05,
                nms=dict(type="nms", iou_threshold=0.6), max_per_img=100)


def head(**kwargs):
    args = dict(num_classes=3, in_channels=8, feat_channels=8, stacked_convs=1, reg_max=4,
                anchor_generator=ANCHORS, train_cfg=TRAIN_CFG, test_cfg=TEST_CFG,
                norm_cfg=dict(type="GN", num_groups=4),
                loss_cls=dict(type="QualityFocalLoss", use_sigmoid=True, beta=2.0,
                              loss_weight=1.0),
                loss_bbox=dict(type="GIoULoss", loss_weight=2.0))
    args.update(kwargs)
    gfl = GFLHead(**args)
    gfl.init_weights()
    return gfl


def test_integral_is_the_expectation_of_each_side():
    integral = Integral(reg_max=4)
    logits = torch.full((1, 20), -30.0)
    for side, value in enumerate((0, 1, 3, 4)):
        logits[0, side * 5 + value] = 30.0
    torch.testing.assert_close(integral(logits), torch.tensor([[0.0, 1.0, 3.0, 4.0]]))
    torch.testing.assert_close(integral(torch.zeros(2, 20)), torch.full((2, 4), 2.0))


def test_layout():
    sd = head().state_dict()
    assert tuple(sd["gfl_cls.weight"].shape) == (3, 8, 3, 3)
    assert tuple(sd["gfl_reg.weight"].shape) == (20, 8, 3, 3)
    assert sd["integral.project"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert {"scales.0.scale", "scales.1.scale", "cls_convs.0.gn.weight"} <= set(sd)
    assert not any("centerness" in k for k in sd)


def test_losses_with_and_without_ground_truth():
    gfl = head()
    torch.manual_seed(0)
    feats = [torch.randn(1, 8, 8, 8), torch.randn(1, 8, 4, 4)]
    meta = dict(img_shape=(64, 64, 3), pad_shape=(64, 64, 3))
    cls_scores, bbox_preds = gfl(feats)
    losses = gfl.loss(cls_scores, bbox_preds, [torch.tensor([[10.0, 12.0, 60.0, 50.0]])],
                      [torch.tensor([2])], [meta])
    assert set(losses) == {"loss_cls", "loss_bbox", "loss_dfl"}
    total = sum(sum(v) for v in losses.values())
    assert torch.isfinite(total) and sum(losses["loss_dfl"]) > 0
    total.backward()
    assert gfl.gfl_reg.weight.grad.abs().sum() > 0
    empty = gfl.loss(cls_scores, bbox_preds, [torch.zeros(0, 4)],
                     [torch.zeros(0, dtype=torch.long)], [meta])
    assert sum(empty["loss_bbox"]) == 0 and sum(empty["loss_dfl"]) == 0
    assert sum(empty["loss_cls"]) > 0  # every location is pushed to 0


def test_decoding_multiplies_the_expected_distances_by_the_stride():
    gfl = head()
    cls = [torch.full((3, 8, 8), -20.0), torch.full((3, 4, 4), -20.0)]
    cls[0][1, 2, 3] = 3.0  # class 1 at row 2, column 3 of level 0: anchor center (24, 16)
    reg = [torch.full((20, 8, 8), -30.0), torch.full((20, 4, 4), -30.0)]
    for side, value in enumerate((1, 2, 3, 4)):
        reg[0][side * 5 + value, 2, 3] = 30.0
    meta = dict(img_shape=(64, 64, 3), scale_factor=np.ones(4, dtype=np.float32))
    priors = gfl.prior_generator.grid_priors([(8, 8), (4, 4)])
    dets, labels = gfl._get_bboxes_single(cls, reg, [None, None], priors, meta, None)
    assert labels.tolist() == [1]
    torch.testing.assert_close(dets[0, :4], torch.tensor([24.0 - 8, 16 - 16, 24 + 24, 16 + 32]))
    assert dets[0, 4].item() == pytest.approx(torch.sigmoid(torch.tensor(3.0)).item())
