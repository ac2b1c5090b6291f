"""nms: mmcv's visiting order (torch's unstable sort) and float32 threshold, score/max filters."""

import numpy as np
import pytest
import torch
import torchvision

from detbox.ops import nms
from detbox.ops.nms import float32_threshold


def mmcv_reference_nms(boxes, scores, thr, offset=0):
    """mmcv's CPU kernel, line by line, in float32 scalars."""
    order = scores.sort(0, descending=True)[1].tolist()
    b = boxes.numpy().astype(np.float32)
    off = np.float32(offset)
    areas = (b[:, 2] - b[:, 0] + off) * (b[:, 3] - b[:, 1] + off)
    thr32 = np.float32(thr)
    alive = [True] * len(order)
    for a in range(len(order)):
        if not alive[a]:
            continue
        i = order[a]
        for c in range(a + 1, len(order)):
            if not alive[c]:
                continue
            j = order[c]
            w = max(np.float32(0), min(b[i, 2], b[j, 2]) - max(b[i, 0], b[j, 0]) + off)
            h = max(np.float32(0), min(b[i, 3], b[j, 3]) - max(b[i, 1], b[j, 1]) + off)
            inter = np.float32(w * h)
            ovr = np.float32(inter / np.float32(areas[i] + areas[j] - inter))
            if ovr > thr32:
                alive[c] = False
    return [order[a] for a in range(len(order)) if alive[a]]


def chain(n):
    """n boxes in a row, each overlapping its neighbours with IoU 1/3."""
    return torch.tensor([[i * 5.0, 0.0, i * 5.0 + 10.0, 10.0] for i in range(n)])


def test_basic_suppression_and_dets():
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [1.0, 0.0, 11.0, 10.0],
                          [20.0, 20.0, 30.0, 30.0]])
    scores = torch.tensor([0.8, 0.9, 0.7])
    dets, keep = nms(boxes, scores, iou_threshold=0.5)
    assert keep.tolist() == [1, 2]  # box 0 has IoU 9/11 with the higher-scored box 1
    assert keep.dtype == torch.int64
    torch.testing.assert_close(dets, torch.cat([boxes[[1, 2]], scores[[1, 2], None]], 1))


def test_tied_scores_follow_torch_unstable_sort():
    n = 20  # above 16 elements torch's default CPU sort is not stable
    boxes, scores = chain(n), torch.full((n,), 0.5)
    order = torch.sort(scores, descending=True)[1]
    stable = torch.sort(scores, descending=True, stable=True)[1]
    assert not torch.equal(order, stable)  # the premise of this test

    _, keep = nms(boxes, scores, iou_threshold=0.3)
    assert keep.tolist() == mmcv_reference_nms(boxes, scores, 0.3)
    assert keep[0] == order[0]  # the first kept box is the first one torch's sort visits
    # torchvision's own (stable) order keeps a different set here
    assert keep.tolist() != torchvision.ops.nms(boxes, scores, 0.3).tolist()


def test_threshold_compared_as_float32():
    # IoU 30 / 100 = 0.3 in float32 is 0.30000001192..., which float32(0.3) equals exactly:
    # mmcv (float compare) keeps both boxes, a double compare against 0.3 would not.
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 10.0, 3.0]])
    scores = torch.tensor([0.9, 0.8])
    assert float32_threshold(0.3) > 0.3
    assert nms(boxes, scores, 0.3)[1].tolist() == [0, 1]
    assert torchvision.ops.nms(boxes, scores, 0.3).tolist() == [0]
    # just below the float32 IoU, the second box goes
    assert nms(boxes, scores, 0.2999999)[1].tolist() == [0]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_boxes_with_ties_match_reference(seed):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(150, 2, generator=g) * 50
    wh = torch.rand(150, 2, generator=g) * 20 + 1
    boxes = torch.cat([xy, xy + wh], 1)
    scores = (torch.rand(150, generator=g) * 5).round() / 5  # heavy ties
    for thr in (0.3, 0.5, 0.7):
        assert nms(boxes, scores, thr)[1].tolist() == mmcv_reference_nms(boxes, scores, thr)
        assert (nms(boxes, scores, thr, offset=1)[1].tolist()
                == mmcv_reference_nms(boxes, scores, thr, offset=1))


def test_offset_one_counts_inclusive_pixels():
    boxes = torch.tensor([[0.0, 0.0, 9.0, 9.0], [0.0, 0.0, 9.0, 4.0]])
    scores = torch.tensor([0.9, 0.8])
    # offset 1: areas 100 and 50, inter 50 -> IoU 0.5; offset 0: 36 / 81 = 0.44
    assert nms(boxes, scores, 0.45, offset=1)[1].tolist() == [0]
    assert nms(boxes, scores, 0.45, offset=0)[1].tolist() == [0, 1]


def test_score_threshold_and_max_num():
    boxes = chain(6) * torch.tensor([3.0, 1.0, 3.0, 1.0])  # spread out: no overlaps
    scores = torch.tensor([0.1, 0.6, 0.3, 0.9, 0.05, 0.4])
    _, keep = nms(boxes, scores, 0.5, score_threshold=0.2)
    assert keep.tolist() == [3, 1, 5, 2]  # indices into the unfiltered input
    _, keep = nms(boxes, scores, 0.5, score_threshold=0.2, max_num=2)
    assert keep.tolist() == [3, 1]
    dets, keep = nms(boxes, scores, 0.5, max_num=3)
    assert keep.tolist() == [3, 1, 5] and dets.shape == (3, 5)


def test_empty_and_numpy_input():
    dets, keep = nms(torch.zeros(0, 4), torch.zeros(0), 0.5)
    assert dets.shape == (0, 5) and keep.shape == (0,) and keep.dtype == torch.int64
    boxes = np.array([[49.1, 32.4, 51.0, 35.9], [49.3, 32.9, 51.0, 35.3],
                      [49.2, 31.8, 51.0, 35.4], [35.1, 11.5, 39.1, 15.7],
                      [35.6, 11.8, 39.3, 14.2], [35.3, 11.5, 39.9, 14.5],
                      [35.2, 11.7, 39.7, 15.7]], dtype=np.float32)
    scores = np.array([0.9, 0.9, 0.5, 0.5, 0.5, 0.4, 0.3], dtype=np.float32)
    dets, inds = nms(boxes, scores, 0.6)
    assert isinstance(dets, np.ndarray) and isinstance(inds, np.ndarray)
    assert len(inds) == len(dets) == 3  # mmcv's docstring example


def test_bad_input():
    with pytest.raises(AssertionError, match=r"\(N, 4\)"):
        nms(torch.zeros(3, 5), torch.zeros(3), 0.5)
    with pytest.raises(AssertionError, match="scores"):
        nms(torch.zeros(3, 4), torch.zeros(2), 0.5)
    with pytest.raises(AssertionError, match="offset"):
        nms(torch.zeros(3, 4), torch.zeros(3), 0.5, offset=2)
