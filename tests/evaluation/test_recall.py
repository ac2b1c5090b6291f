import logging

import numpy as np
import pytest

from detbox.evaluation import eval_recalls


def arr(rows, cols):
    return np.array(rows, dtype=np.float32).reshape(-1, cols)


def test_eval_recalls_hand_case(caplog):
    gts = [arr([[0, 0, 10, 10], [20, 20, 30, 30]], 4), arr([[0, 0, 20, 20]], 4)]
    proposals = [
        # sorted by score first: the [20, 20, 30, 25] box (IoU 0.5 with gt 2) ranks first
        arr([[0, 0, 10, 10, 0.2], [20, 20, 30, 25, 0.9]], 5),
        arr([[0, 0, 20, 15, 0.5], [100, 100, 110, 110, 0.7]], 5),
    ]
    with caplog.at_level(logging.INFO, logger="detbox.evaluation"):
        recalls = eval_recalls(gts, proposals, [1, 2], [0.5, 0.7])
    # top-1: image 0 recalls gt 2 at 0.5 only; image 1's top box misses -> 1/3, 0
    # top-2: image 0 also gets gt 1 (IoU 1); image 1 gets IoU 0.75 -> 3/3, 2/3
    np.testing.assert_allclose(recalls, [[1 / 3, 0.0], [1.0, 2 / 3]])
    assert "| 1 | 0.333 | 0.000 |" in caplog.text

    # a single proposal count and threshold, proposals without scores
    r = eval_recalls(gts, [p[:, :4] for p in proposals], 1, 0.5, logger="silent")
    # unsorted: image 0's first box is gt 1 exactly, image 1's first box IoU 0.75
    np.testing.assert_allclose(r, [[2 / 3]])


def test_eval_recalls_one_proposal_serves_one_gt_and_empty_images():
    gts = [arr([[0, 0, 10, 10], [0, 0, 10, 11]], 4), arr([], 4), None]
    proposals = [arr([[0, 0, 10, 10, 1.0]], 5), arr([[0, 0, 5, 5, 1.0]], 5), arr([], 5)]
    r = eval_recalls(gts, proposals, [10], [0.5], logger="silent")
    assert r.tolist() == [[0.5]]


def test_eval_recalls_without_any_gt_gives_zeros_and_says_so(caplog):
    with caplog.at_level(logging.WARNING):
        r = eval_recalls([arr([], 4)], [arr([[0, 0, 1, 1, 1]], 5)], [1], [0.5], logger="silent")
    assert r.tolist() == [[0.0]]
    assert "no ground-truth box" in caplog.text


def test_eval_recalls_errors():
    with pytest.raises(ValueError, match="2 images of ground truth but 1 of proposals"):
        eval_recalls([arr([], 4)] * 2, [arr([], 5)], [1])
    with pytest.raises(ValueError, match=r"proposals of image 0 must be"):
        eval_recalls([arr([], 4)], [np.zeros((2, 3))], [1])


def test_eval_recalls_matches_mmdet_v2(mmdet_v2_eval):
    rng = np.random.default_rng(0)
    gts, props = [], []
    for _ in range(5):  # v2 stacks per-image IoU matrices with np.array: equal shapes only
        xy = rng.uniform(0, 60, (4, 2))
        gts.append(np.hstack([xy, xy + rng.uniform(5, 30, (4, 2))]).astype(np.float32))
        xy = rng.uniform(0, 60, (30, 2))
        p = np.hstack([xy, xy + rng.uniform(5, 30, (30, 2)), rng.uniform(0, 1, (30, 1))])
        props.append(p.astype(np.float32))
    thrs = np.arange(0.5, 0.96, 0.05)
    for legacy in (False, True):
        ours = eval_recalls(gts, props, [5, 10, 30], thrs, logger="silent",
                            use_legacy_coordinate=legacy)
        ref = mmdet_v2_eval.eval_recalls(gts, props, [5, 10, 30], thrs, logger="silent",
                                         use_legacy_coordinate=legacy)
        np.testing.assert_array_equal(ours, ref)
        assert ours.max() > 0
