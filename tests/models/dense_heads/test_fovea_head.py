"""FoveaHead: fovea targets by size range, log-distance decoding, the aligned variant."""

import math

import pytest
import torch

from detbox.models.dense_heads import FoveaHead


def head(**kwargs):
    torch.manual_seed(0)
    args = dict(num_classes=2, in_channels=8, feat_channels=8, stacked_convs=1,
                strides=[8, 16], base_edge_list=[16, 32], scale_ranges=((1, 32), (16, 64)),
                test_cfg=dict(nms_pre=100, score_thr=0.05, nms=dict(type="nms",
                              iou_threshold=0.5), max_per_img=10),
                loss_cls=dict(type="FocalLoss", use_sigmoid=True, gamma=1.5, alpha=0.4),
                loss_bbox=dict(type="SmoothL1Loss", beta=0.11))
    args.update(kwargs)
    fovea = FoveaHead(**args)
    fovea.init_weights()
    return fovea


def test_targets_by_size_and_fovea():
    fovea = head()
    points = fovea.prior_generator.grid_priors([(8, 8), (4, 4)])
    gt = torch.tensor([[16.0, 16.0, 40.0, 40.0]])  # sqrt(area) 24: both levels
    labels, targets = fovea.get_targets([gt], [torch.tensor([1])], [(8, 8), (4, 4)], points)
    level0 = labels[:64].view(8, 8)
    # stride 8: box 2..5 cells, half 1.5: fovea 2.9..4.1 minus 0.5 -> cell 3 only
    assert (level0 == 1).nonzero().tolist() == [[3, 3]]
    pos = 3 * 8 + 3  # point (28, 28): distances 12, 12, 12, 12 over base 16
    assert targets[pos].tolist() == pytest.approx([math.log(12 / 16)] * 4)
    assert (labels[64:] == 1).sum() == 1 and labels.numel() == 80


def test_decode_and_losses_and_aligned_layout():
    fovea = head()
    box = fovea._decode_level(torch.tensor([[20.0, 20.0]]), torch.zeros(1, 4), 1, (30, 100))
    assert box.tolist() == [[0.0, 0.0, 52.0, 29.0]]  # 32 px each side, clamped to size - 1
    outs = fovea([torch.randn(2, 8, 8, 8), torch.randn(2, 8, 4, 4)])
    gts = [torch.tensor([[16.0, 16.0, 40.0, 40.0]]), torch.zeros(0, 4)]
    losses = fovea.loss(*outs, gts, [torch.tensor([1]), torch.zeros(0).long()], [{}, {}])
    assert losses["loss_cls"] > 0 and losses["loss_bbox"] > 0
    aligned = head(with_deform=True, norm_cfg=dict(type="GN", num_groups=4))
    keys = set(aligned.state_dict())
    assert {"feature_adaption.conv_offset.weight", "feature_adaption.conv_adaption.weight",
            "cls_convs.1.conv.weight"} <= keys
    assert aligned.conv_cls.in_channels == 32
    assert aligned.feature_adaption.conv_offset.weight.abs().max() == 0  # zeroed at init
    cls, reg = aligned([torch.randn(1, 8, 8, 8), torch.randn(1, 8, 4, 4)])
    assert cls[0].shape == (1, 2, 8, 8) and reg[1].shape == (1, 4, 4, 4)
