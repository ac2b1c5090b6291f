"""DeltaXYWHBBoxCoder: hand-computed deltas, round trips, clamps and the (N, 4 * C) layout."""

import math

import pytest
import torch

import detbox.models  # noqa: F401  (registers the task modules)
from detbox.models.task_modules import DeltaXYWHBBoxCoder, bbox2delta, delta2bbox
from detbox.registry import TASK_UTILS

STDS = (0.1, 0.1, 0.2, 0.2)
MAX_RATIO = abs(math.log(16 / 1000))


def test_hand_computed_delta():
    anchor = torch.tensor([[0.0, 0.0, 10.0, 20.0]])  # center (5, 10), 10 x 20
    gt = torch.tensor([[2.0, 4.0, 22.0, 44.0]])  # center (12, 24), 20 x 40
    raw = torch.tensor([[0.7, 0.7, math.log(2), math.log(2)]])
    torch.testing.assert_close(DeltaXYWHBBoxCoder().encode(anchor, gt), raw)
    coder = DeltaXYWHBBoxCoder(target_means=(0.1, 0.0, 0.0, 0.0), target_stds=STDS)
    expected = (raw - torch.tensor([0.1, 0.0, 0.0, 0.0])) / torch.tensor(STDS)
    torch.testing.assert_close(coder.encode(anchor, gt), expected)
    torch.testing.assert_close(coder.decode(anchor, expected), gt)


def test_mmdet_docstring_golden():
    rois = torch.tensor([[0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 1.0],
                         [5.0, 5.0, 5.0, 5.0]])
    deltas = torch.tensor([[0.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 2.0, -1.0],
                           [0.7, -1.9, -0.5, 0.3]])
    expected = torch.tensor([[0.0000, 0.0000, 1.0000, 1.0000],
                             [0.1409, 0.1409, 2.8591, 2.8591],
                             [0.0000, 0.3161, 4.1945, 0.6839],
                             [5.0000, 5.0000, 5.0000, 5.0000]])
    out = delta2bbox(rois, deltas, max_shape=(32, 32, 3))
    torch.testing.assert_close(out, expected, atol=1e-4, rtol=0)


def test_round_trip_random():
    g = torch.Generator().manual_seed(0)
    xy = torch.rand(50, 2, generator=g) * 100
    anchors = torch.cat([xy, xy + torch.rand(50, 2, generator=g) * 50 + 1], 1)
    xy = torch.rand(50, 2, generator=g) * 100
    gts = torch.cat([xy, xy + torch.rand(50, 2, generator=g) * 50 + 1], 1)
    coder = DeltaXYWHBBoxCoder(target_means=(0.0, 0.0, 0.0, 0.0), target_stds=STDS)
    torch.testing.assert_close(coder.decode(anchors, coder.encode(anchors, gts)), gts,
                               atol=1e-3, rtol=1e-5)


def test_decode_clamps_wh_and_border():
    anchor = torch.tensor([[0.0, 0.0, 10.0, 10.0]])
    deltas = torch.tensor([[0.0, 0.0, 10.0, -10.0]])  # dw, dh far beyond |log(16/1000)|
    w, h = 10 * math.exp(MAX_RATIO), 10 * math.exp(-MAX_RATIO)
    coder = DeltaXYWHBBoxCoder()
    torch.testing.assert_close(coder.decode(anchor, deltas),
                               torch.tensor([[5 - w / 2, 5 - h / 2, 5 + w / 2, 5 + h / 2]]))
    # max_shape is (h, w): x is clamped to [0, 30], y to [0, 20]
    out = coder.decode(anchor, deltas, max_shape=(20, 30))
    torch.testing.assert_close(out, torch.tensor([[0.0, 5 - h / 2, 30.0, 5 + h / 2]]))
    tall = coder.decode(anchor, torch.tensor([[0.0, 0.0, -10.0, 10.0]]), max_shape=(20, 30))
    torch.testing.assert_close(tall, torch.tensor([[5 - h / 2, 0.0, 5 + h / 2, 20.0]]))
    unclipped = DeltaXYWHBBoxCoder(clip_border=False).decode(anchor, deltas, max_shape=(20, 30))
    assert unclipped[0, 0] < 0 and unclipped[0, 2] > 30
    # a gentler wh_ratio_clip
    torch.testing.assert_close(coder.decode(anchor, deltas, wh_ratio_clip=0.5)[0, 2],
                               torch.tensor(5 + 10 * 2 / 2))


def test_ctr_clamp():
    anchor = torch.tensor([[0.0, 0.0, 100.0, 100.0]])
    coder = DeltaXYWHBBoxCoder(add_ctr_clamp=True, ctr_clamp=32)
    out = coder.decode(anchor, torch.tensor([[1.0, -1.0, 0.0, -10.0]]))
    h = 100 * math.exp(-10)  # dw/dh are clamped only from above with ctr clamp
    torch.testing.assert_close(out, torch.tensor([[32.0, 18 - h / 2, 132.0, 18 + h / 2]]))


def test_multiclass_layout_and_batch():
    anchors = torch.tensor([[0.0, 0.0, 10.0, 10.0], [5.0, 5.0, 25.0, 15.0]])
    deltas = torch.tensor([[0.1, 0.2, 0.3, 0.4, -0.1, 0.0, 0.5, -0.5],
                           [0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0]])  # [2, 2 classes * 4]
    coder = DeltaXYWHBBoxCoder(target_stds=STDS)
    out = coder.decode(anchors, deltas, max_shape=(12, 40))
    assert out.shape == (2, 8)
    for c in range(2):
        torch.testing.assert_close(out[:, 4 * c:4 * c + 4],
                                   coder.decode(anchors, deltas[:, 4 * c:4 * c + 4], (12, 40)))
    batch = coder.decode(anchors[None].repeat(2, 1, 1), deltas[None].repeat(2, 1, 1),
                         max_shape=[(12, 40), (100, 100)])
    assert batch.shape == (2, 2, 8)
    torch.testing.assert_close(batch[0], out)
    torch.testing.assert_close(batch[1], coder.decode(anchors, deltas, (100, 100)))


def test_empty_and_errors():
    coder = DeltaXYWHBBoxCoder()
    assert coder.decode(torch.zeros(0, 4), torch.zeros(0, 4)).shape == (0, 4)
    assert coder.encode(torch.zeros(0, 4), torch.zeros(0, 4)).shape == (0, 4)
    with pytest.raises(AssertionError, match="deltas"):
        coder.decode(torch.zeros(2, 4), torch.zeros(3, 4))
    with pytest.raises(AssertionError, match="shape"):
        bbox2delta(torch.zeros(2, 4), torch.zeros(3, 4))


def test_built_from_config():
    coder = TASK_UTILS.build(dict(type="DeltaXYWHBBoxCoder", target_means=[0.0, 0.0, 0.0, 0.0],
                                  target_stds=[1.0, 1.0, 1.0, 1.0]))
    assert isinstance(coder, DeltaXYWHBBoxCoder) and coder.stds == [1.0, 1.0, 1.0, 1.0]
