"""RetinaHead: layout, initialisation, decoding of hand-made outputs, losses."""

import math

import numpy as np
import pytest
import torch

from detbox.models.dense_heads import RetinaHead
from detbox.models.dense_heads.head_utils import filter_scores_and_topk

ONE_ANCHOR = dict(type="AnchorGenerator", ratios=[1.0], scales=[2.0], strides=[8])
TEST_CFG = dict(nms_pre=1000, min_bbox_size=0, score_thr=0.05,
                nms=dict(type="nms", iou_threshold=0.5), max_per_img=100)


def test_layout_and_init():
    retina = RetinaHead(num_classes=80, in_channels=256)
    sd = retina.state_dict()
    assert tuple(sd["retina_cls.weight"].shape) == (720, 256, 3, 3)
    assert tuple(sd["retina_reg.weight"].shape) == (36, 256, 3, 3)
    assert [k for k in sd if k.startswith("cls_convs.0")] == ["cls_convs.0.conv.weight",
                                                             "cls_convs.0.conv.bias"]
    retina.init_weights()
    assert retina.retina_cls.bias.detach().allclose(torch.tensor(-math.log(99)))
    assert retina.retina_reg.bias.abs().max() == 0
    assert 0.008 < retina.cls_convs[0].conv.weight.std().item() < 0.012


def test_filter_scores_and_topk_ranks_pairs():
    scores = torch.tensor([[0.1, 0.9], [0.6, 0.2], [0.3, 0.7], [0.01, 0.04]])
    kept, labels, idxs, selected = filter_scores_and_topk(
        scores, 0.15, 3, dict(priors=torch.arange(4) * 10))
    assert kept.tolist() == pytest.approx([0.9, 0.7, 0.6])
    assert labels.tolist() == [1, 1, 0] and idxs.tolist() == [0, 2, 1]
    assert selected["priors"].tolist() == [0, 20, 10]


def test_decoding_hand_made_outputs():
    retina = RetinaHead(num_classes=2, in_channels=4, feat_channels=4, stacked_convs=1,
                        anchor_generator=ONE_ANCHOR, test_cfg=TEST_CFG)
    # one 16x16 anchor per location of a 1x2 map, centered at (0, 0) and (8, 0)
    cls = torch.full((1, 2, 1, 2), -10.0)
    cls[0, 1, 0, 0] = math.log(0.8 / 0.2)  # anchor 0, class 1: 0.8
    cls[0, 0, 0, 1] = math.log(0.3 / 0.7)  # anchor 1, class 0: 0.3
    cls[0, 1, 0, 1] = math.log(0.7 / 0.3)  # anchor 1, class 1: 0.7
    deltas = torch.zeros(1, 4, 1, 2)
    deltas[0, 0, 0, 1] = 0.5  # anchor 1 moves right by half its width: center 16
    meta = dict(img_shape=(40, 40, 3), scale_factor=np.ones(4, dtype=np.float32))
    (dets, labels), = retina.get_bboxes([cls], [deltas], img_metas=[meta])
    # boxes clipped to the image: [-8, -8, 8, 8] -> [0, 0, 8, 8], [8, -8, 24, 8] -> [8, 0, ...];
    # the two class-1 boxes only touch (IoU 0), so NMS keeps all three
    torch.testing.assert_close(dets, torch.tensor([[0.0, 0.0, 8.0, 8.0, 0.8],
                                                   [8.0, 0.0, 24.0, 8.0, 0.7],
                                                   [8.0, 0.0, 24.0, 8.0, 0.3]]))
    assert labels.tolist() == [1, 1, 0]
    # without NMS: the candidates (boxes, scores, labels), for test-time augmentation
    (boxes, scores, cand_labels), = retina.get_bboxes([cls], [deltas], img_metas=[meta],
                                                      with_nms=False)
    assert boxes.shape == (3, 4) and sorted(scores.tolist()) == pytest.approx([0.3, 0.7, 0.8])


def test_loss_with_focal_loss_over_all_anchors():
    retina = RetinaHead(num_classes=3, in_channels=8, feat_channels=8, stacked_convs=1,
                        anchor_generator=dict(type="AnchorGenerator", octave_base_scale=4,
                                              scales_per_octave=1, ratios=[1.0],
                                              strides=[8, 16]),
                        train_cfg=dict(assigner=dict(type="MaxIoUAssigner", pos_iou_thr=0.5,
                                                     neg_iou_thr=0.4, min_pos_iou=0,
                                                     ignore_iof_thr=-1),
                                       allowed_border=-1, pos_weight=-1, debug=False),
                        loss_cls=dict(type="FocalLoss", use_sigmoid=True, gamma=2.0,
                                      alpha=0.25, loss_weight=1.0),
                        loss_bbox=dict(type="L1Loss", loss_weight=1.0))
    retina.init_weights()
    assert not retina.sampling
    torch.manual_seed(0)
    outs = retina([torch.randn(1, 8, 8, 8), torch.randn(1, 8, 4, 4)])
    meta = dict(img_shape=(64, 64, 3), pad_shape=(64, 64, 3))
    losses = retina.loss(*outs, [torch.tensor([[16.0, 16.0, 48.0, 48.0]])], [torch.tensor([2])],
                         [meta])
    assert len(losses["loss_cls"]) == 2 and len(losses["loss_bbox"]) == 2
    assert sum(losses["loss_bbox"]) > 0
    assert 0 < sum(losses["loss_cls"]).item() < 50
