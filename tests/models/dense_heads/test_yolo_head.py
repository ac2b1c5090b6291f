"""YOLOV3Head: output layout, targets of a known ground truth, losses, decoding and NMS."""

import math

import pytest
import torch

from detbox.models.dense_heads import YOLOV3Head
from detbox.registry import MODELS

NUM_CLASSES = 2


def _head(**kw):
    cfg = dict(type="YOLOV3Head", num_classes=NUM_CLASSES, in_channels=[8, 4],
               out_channels=[8, 4], featmap_strides=[16, 8],
               anchor_generator=dict(type="YOLOAnchorGenerator", strides=[16, 8],
                                     base_sizes=[[(32, 32), (16, 32)], [(8, 8), (8, 16)]]),
               loss_cls=dict(type="CrossEntropyLoss", use_sigmoid=True, reduction="sum"),
               loss_conf=dict(type="CrossEntropyLoss", use_sigmoid=True, reduction="sum"),
               loss_xy=dict(type="CrossEntropyLoss", use_sigmoid=True, loss_weight=2.0,
                            reduction="sum"),
               loss_wh=dict(type="MSELoss", loss_weight=2.0, reduction="sum"),
               train_cfg=dict(assigner=dict(type="GridAssigner", pos_iou_thr=0.5,
                                            neg_iou_thr=0.5, min_pos_iou=0)),
               test_cfg=dict(score_thr=0.05, conf_thr=0.005,
                             nms=dict(type="nms", iou_threshold=0.45), max_per_img=10))
    cfg.update(kw)
    torch.manual_seed(0)
    head = MODELS.build(cfg)
    assert isinstance(head, YOLOV3Head)
    head.init_weights()
    return head.eval()


_GEN = torch.Generator().manual_seed(0)
FEATS = [torch.randn(1, 8, 2, 2, generator=_GEN), torch.randn(1, 4, 4, 4, generator=_GEN)]


def test_forward_gives_anchors_times_attributes_channels():
    head = _head()
    (maps,) = head(FEATS)
    assert [tuple(m.shape) for m in maps] == [(1, 2 * 7, 2, 2), (1, 2 * 7, 4, 4)]
    bias = head.convs_pred[0].bias.view(2, 7)
    # objectness prior 8 / (608 / 16)^2, class prior 0.01
    assert torch.sigmoid(bias[0, 4]).item() == pytest_approx(8 / (608 / 16) ** 2)
    assert torch.sigmoid(bias[0, 5]).item() == pytest_approx(0.01)


def pytest_approx(x):
    return pytest.approx(x, rel=1e-5)


def test_targets_of_a_box_matching_one_anchor():
    head = _head()
    gt = torch.tensor([[-8.0, -8.0, 24.0, 24.0]])  # exactly anchor 0 of level 0, cell (0, 0)
    anchors = head.prior_generator.grid_priors([(2, 2), (4, 4)])
    flags = head.prior_generator.responsible_flags([(2, 2), (4, 4)], gt)
    targets, negs = head.get_targets([anchors], [flags], [gt], [torch.tensor([1])])
    t0 = targets[0][0]
    pos = torch.nonzero(t0[:, 4]).flatten().tolist()
    assert pos == [0]
    assert t0[0].tolist() == pytest_approx([0.5, 0.5, 0.0, 0.0, 1.0, 0.0, 1.0])
    assert negs[0][0, 0] == 0 and int(targets[1][0][:, 4].sum()) == 0


def test_losses_are_per_level_and_zero_for_classes_without_positives():
    head = _head().train()
    (maps,) = head(FEATS)
    losses = head.loss(maps, [torch.zeros(0, 4)], [torch.zeros(0, dtype=torch.long)],
                       [dict(img_shape=(32, 32, 3))])
    assert sorted(losses) == ["loss_cls", "loss_conf", "loss_wh", "loss_xy"]
    assert all(len(v) == 2 for v in losses.values())
    assert all(float(v.detach()) == 0
               for k in ("loss_cls", "loss_xy", "loss_wh") for v in losses[k])
    # every anchor is a negative: conf loss = sum of -log(1 - sigmoid(objectness))
    obj = maps[0].detach().permute(0, 2, 3, 1).reshape(-1, 7)[:, 4]
    expected = float(torch.nn.functional.softplus(obj).sum())
    assert math.isclose(float(losses["loss_conf"][0].detach()), expected, rel_tol=1e-4)


def test_get_bboxes_keeps_confident_anchors_and_multiplies_objectness():
    head = _head()
    maps = [torch.full((1, 14, 2, 2), -10.0), torch.full((1, 14, 4, 4), -10.0)]
    pred = maps[0].view(1, 2, 7, 2, 2)
    pred[0, 0, :4, 1, 0] = 0.0     # anchor 0 at cell (x=0, y=1): the anchor box itself
    pred[0, 0, 4, 1, 0] = 0.0      # objectness 0.5
    pred[0, 0, 6, 1, 0] = 2.0      # class 1 at sigmoid(2)
    (dets, labels), = head.get_bboxes(maps, [dict(scale_factor=[1.0] * 4)])
    assert labels.tolist() == [1]
    assert dets[0, :4].tolist() == pytest_approx([-8.0, 8.0, 24.0, 40.0])
    assert dets[0, 4].item() == pytest_approx(0.5 / (1 + math.exp(-2.0)))
