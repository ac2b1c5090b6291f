"""soft_nms: hand-computed linear / gaussian / naive decays, and mmcv's in-place order."""

import math

import numpy as np
import pytest
import torch

from detbox.ops import soft_nms

# A; B = lower half of A (IoU 0.5 with A); C = A shifted right by 5 (IoU 1/3 with A, 0.2 with B)
BOXES = torch.tensor([[0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 10.0, 5.0], [5.0, 0.0, 15.0, 10.0]])
SCORES = torch.tensor([0.9, 0.8, 0.7])


def mmcv_reference_soft_nms(boxes, scores, thr, sigma, min_score, method, offset=0):
    """mmcv's CPU soft-NMS kernel, line by line, in float32 scalars."""
    f = np.float32
    b = boxes.numpy().astype(f).copy()
    x1, y1, x2, y2 = [list(b[:, k]) for k in range(4)]
    sc = list(scores.numpy().astype(f))
    off = f(offset)
    areas = [f((x2[k] - x1[k] + off) * (y2[k] - y1[k] + off)) for k in range(len(sc))]
    inds = list(range(len(sc)))
    n, dets, i = len(sc), [], 0
    while i < n:
        max_pos = i
        for pos in range(i + 1, n):
            if sc[max_pos] < sc[pos]:
                max_pos = pos
        for arr in (x1, y1, x2, y2, sc, areas, inds):
            arr[i], arr[max_pos] = arr[max_pos], arr[i]
        dets.append([x1[i], y1[i], x2[i], y2[i], sc[i]])
        pos = i + 1
        while pos < n:
            w = max(f(0), f(min(x2[i], x2[pos]) - max(x1[i], x1[pos]) + off))
            h = max(f(0), f(min(y2[i], y2[pos]) - max(y1[i], y1[pos]) + off))
            inter = f(w * h)
            ovr = f(inter / f(areas[i] + areas[pos] - inter))
            weight = f(1)
            if method == "naive" and ovr >= f(thr):
                weight = f(0)
            elif method == "linear" and ovr >= f(thr):
                weight = f(1) - ovr
            elif method == "gaussian":
                weight = f(np.exp(-(ovr * ovr) / f(sigma)))
            sc[pos] = f(sc[pos] * weight)
            if sc[pos] < f(min_score):
                for arr in (x1, y1, x2, y2, sc, areas, inds):
                    arr[pos] = arr[n - 1]
                n -= 1
                pos -= 1
            pos += 1
        i += 1
    return np.array(dets[:n], dtype=f).reshape(-1, 5), inds[:n]


def test_linear_decay_by_hand():
    dets, inds = soft_nms(BOXES, SCORES, iou_threshold=0.3, method="linear")
    # A first; B: 0.8 * (1 - 0.5) = 0.4; C: 0.7 * (1 - 1/3) = 0.4667 -> C next;
    # B vs C: IoU 0.2 <= 0.3, unchanged
    assert inds.tolist() == [0, 2, 1]
    torch.testing.assert_close(dets[:, 4], torch.tensor([0.9, 0.7 * 2 / 3, 0.4]))
    torch.testing.assert_close(dets[:, :4], BOXES[[0, 2, 1]])


def test_gaussian_decay_by_hand():
    dets, inds = soft_nms(BOXES, SCORES, sigma=0.5, method="gaussian")
    b_after_a = 0.8 * math.exp(-0.25 / 0.5)
    c_after_a = 0.7 * math.exp(-(1 / 9) / 0.5)
    assert c_after_a > b_after_a
    assert inds.tolist() == [0, 2, 1]
    expected = [0.9, c_after_a, b_after_a * math.exp(-0.04 / 0.5)]
    torch.testing.assert_close(dets[:, 4], torch.tensor(expected))


def test_naive_drops_overlaps_at_threshold():
    dets, inds = soft_nms(BOXES, SCORES, iou_threshold=1 / 3, method="naive")
    assert inds.tolist() == [0]  # B (0.5) and C (1/3, at the threshold: >=) drop to 0
    dets, inds = soft_nms(BOXES, SCORES, iou_threshold=0.4, method="naive")
    assert inds.tolist() == [0, 2]  # C survives (IoU 1/3 < 0.4), B still goes
    torch.testing.assert_close(dets[:, 4], torch.tensor([0.9, 0.7]))


def test_min_score_removes_boxes():
    _, inds = soft_nms(BOXES, SCORES, iou_threshold=0.3, min_score=0.45)
    assert inds.tolist() == [0, 2]  # B decays to 0.4 < 0.45


@pytest.mark.parametrize("method", ["linear", "gaussian", "naive"])
def test_random_boxes_match_mmcv_order(method):
    g = torch.Generator().manual_seed(3)
    xy = torch.rand(60, 2, generator=g) * 40
    boxes = torch.cat([xy, xy + torch.rand(60, 2, generator=g) * 20 + 1], 1)
    scores = (torch.rand(60, generator=g) * 4).round() / 4 + 0.01  # ties
    for min_score in (1e-3, 0.2):
        dets, inds = soft_nms(boxes, scores, 0.3, 0.5, min_score, method)
        ref_dets, ref_inds = mmcv_reference_soft_nms(boxes, scores, 0.3, 0.5, min_score, method)
        assert inds.tolist() == ref_inds
        np.testing.assert_allclose(dets.numpy(), ref_dets, rtol=1e-6, atol=0)


def test_empty_and_numpy():
    dets, inds = soft_nms(torch.zeros(0, 4), torch.zeros(0))
    assert dets.shape == (0, 5) and inds.shape == (0,)
    dets, inds = soft_nms(BOXES.numpy(), SCORES.numpy())
    assert isinstance(dets, np.ndarray) and inds.tolist() == [0, 2, 1]


def test_bad_method():
    with pytest.raises(AssertionError, match="method"):
        soft_nms(BOXES, SCORES, method="cubic")
