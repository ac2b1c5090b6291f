import logging

import numpy as np
import pytest

from detbox.evaluation import average_precision, bbox_overlaps, eval_map, tpfp_default


def arr(rows, cols=5):
    return np.array(rows, dtype=np.float32).reshape(-1, cols)


def hand_case(with_ignore=False):
    """Three classes over two images (see the expected values in the tests)."""
    dets = [
        [arr([[0, 0, 10, 10, 0.9]]),
         arr([[20, 20, 40, 40, 0.6], [21, 21, 40, 40, 0.95]]),
         arr([[70, 70, 80, 80, 0.5]])],
        [arr([[0, 0, 10, 10, 0.8], [50, 50, 60, 60, 0.7]]),
         arr([[0, 0, 5, 5, 0.3]]),
         arr([])],
    ]
    anns = [
        dict(bboxes=arr([[0, 0, 10, 10], [20, 20, 40, 40]], 4), labels=np.array([0, 1])),
        dict(bboxes=arr([[50, 50, 60, 60]], 4), labels=np.array([0])),
    ]
    if with_ignore:
        anns[1]["bboxes_ignore"] = arr([[0, 0, 10, 10]], 4)
        anns[1]["labels_ignore"] = np.array([0])
    return dets, anns


def test_average_precision_area_and_11points_by_hand():
    recalls = np.array([0.5, 0.5, 1.0])
    precisions = np.array([1.0, 0.5, 2 / 3])
    # envelope: 1 up to recall 0.5, 2/3 up to 1 -> 0.5 * 1 + 0.5 * 2/3
    assert average_precision(recalls, precisions, "area") == pytest.approx(0.5 + 1 / 3)
    # recall >= 0, .1, ..., .5 -> 1 (6 points); .6 ... 1 -> 2/3 (5 points)
    assert average_precision(recalls, precisions, "11points") == pytest.approx((6 + 10 / 3) / 11)
    two = average_precision(np.stack([recalls, recalls]), np.stack([precisions, precisions]))
    assert two.shape == (2,) and two.dtype == np.float32
    with pytest.raises(ValueError, match="mode"):
        average_precision(recalls, precisions, "bad")


def test_tpfp_default_duplicates_ignored_and_legacy_coordinates():
    gts = arr([[20, 20, 40, 40]], 4)
    dets = arr([[20, 20, 40, 40, 0.6], [21, 21, 40, 40, 0.95], [0, 0, 5, 5, 0.1]])
    tp, fp = tpfp_default(dets, gts, arr([], 4))
    # the higher-scored duplicate takes the box; the other one is a false positive
    assert tp.tolist() == [[0, 1, 0]] and fp.tolist() == [[1, 0, 1]]
    # a detection on an ignored box is neither
    tp, fp = tpfp_default(arr([[0, 0, 10, 10, 0.5]]), arr([], 4), arr([[0, 0, 10, 10]], 4))
    assert tp.tolist() == [[0]] and fp.tolist() == [[0]]
    # IoU 36/81 < 0.5 with exclusive coordinates, 50/100 = 0.5 with the +1 convention
    gt, det = arr([[0, 0, 9, 9]], 4), arr([[0, 0, 9, 4, 0.9]])
    assert tpfp_default(det, gt, arr([], 4))[0].tolist() == [[0]]
    assert tpfp_default(det, gt, arr([], 4), use_legacy_coordinate=True)[0].tolist() == [[1]]
    # no ground truth: every detection is a false positive (within the area range)
    tp, fp = tpfp_default(dets, arr([], 4), arr([], 4), area_ranges=[(0, 30), (30, 1e4)])
    assert fp.tolist() == [[0, 0, 1], [1, 1, 0]]


def test_eval_map_hand_case_area_and_voc07(caplog):
    dets, anns = hand_case()
    with caplog.at_level(logging.INFO, logger="detbox.evaluation"):
        mean_ap, results = eval_map(dets, anns, dataset=["cat", "dog", "cow"])
    # class 0: TP 0.9, FP 0.8, TP 0.7 -> 5/6; class 1: TP 0.95, FP, FP -> 1; class 2 has no gt
    assert results[0]["ap"] == pytest.approx(5 / 6)
    assert results[1]["ap"] == pytest.approx(1.0)
    assert results[2]["num_gts"] == 0 and results[2]["num_dets"] == 1
    assert mean_ap == pytest.approx((5 / 6 + 1) / 2)
    np.testing.assert_allclose(results[0]["recall"], [0.5, 0.5, 1.0])
    np.testing.assert_allclose(results[0]["precision"], [1.0, 0.5, 2 / 3], rtol=1e-6)
    table = caplog.text
    assert "| class | gts | dets | recall | ap    |" in table
    assert "| cat   | 2   | 3    | 1.000  | 0.833 |" in table
    assert "| mAP   |     |      |        | 0.917 |" in table

    mean_ap, results = eval_map(dets, anns, dataset="voc07", logger="silent")
    assert results[0]["ap"] == pytest.approx((6 + 10 / 3) / 11, rel=1e-6)
    assert mean_ap == pytest.approx(((6 + 10 / 3) / 11 + 1) / 2, rel=1e-6)


def test_eval_map_ignored_boxes_and_scale_ranges():
    dets, anns = hand_case(with_ignore=True)
    mean_ap, results = eval_map(dets, anns, logger="silent")
    # the 0.8 detection sits on an ignored box: TP, -, TP
    assert results[0]["ap"] == pytest.approx(1.0)
    assert mean_ap == pytest.approx(1.0)

    dets, anns = hand_case()
    mean_ap, results = eval_map(dets, anns, scale_ranges=[(0, 15), (15, 100)], logger="silent")
    # small range (area < 225): class 0 as before; large range: class 1, the 5x5 FP is small
    assert mean_ap[0] == pytest.approx(5 / 6) and mean_ap[1] == pytest.approx(1.0)
    assert results[0]["num_gts"].tolist() == [2, 0]
    assert results[1]["precision"][1].tolist() == pytest.approx([1.0, 0.5, 0.5])


def test_eval_map_errors_name_the_problem():
    dets, anns = hand_case()
    with pytest.raises(ValueError, match="2 detection results but 1 annotations"):
        eval_map(dets, anns[:1])
    with pytest.raises(ValueError, match=r"image 1, class 0: detections must be"):
        eval_map([dets[0], [arr([], 4), arr([]), arr([])]], anns)
    with pytest.raises(NotImplementedError, match="Open Images"):
        eval_map(dets, anns, use_group_of=True)


def _random_case(rng, num_imgs=6, num_classes=3):
    dets, anns = [], []
    for _ in range(num_imgs):
        n = int(rng.integers(0, 6))
        xy = rng.uniform(0, 80, (n, 2))
        gts = np.hstack([xy, xy + rng.uniform(4, 40, (n, 2))]).astype(np.float32)
        labels = rng.integers(0, num_classes, n)
        k = int(rng.integers(0, 3))
        xy = rng.uniform(0, 80, (k, 2))
        ign = np.hstack([xy, xy + rng.uniform(4, 40, (k, 2))]).astype(np.float32)
        anns.append(dict(bboxes=gts, labels=labels, bboxes_ignore=ign,
                         labels_ignore=rng.integers(0, num_classes, k)))
        per_class = []
        for c in range(num_classes):
            base = gts[labels == c]
            m = int(rng.integers(0, 8))
            jitter = rng.normal(0, 4, (m, 4)).astype(np.float32)
            src = base[rng.integers(0, len(base), m)] if len(base) else \
                np.tile(np.array([10, 10, 30, 30], np.float32), (m, 1))
            boxes = src + jitter
            boxes[:, 2:] = np.maximum(boxes[:, 2:], boxes[:, :2] + 1)
            scores = rng.uniform(0, 1, (m, 1)).astype(np.float32)
            per_class.append(np.hstack([boxes, scores]).astype(np.float32))
        dets.append(per_class)
    return dets, anns


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_eval_map_matches_mmdet_v2(mmdet_v2_eval, seed):
    dets, anns = _random_case(np.random.default_rng(seed))
    for kwargs in (dict(), dict(dataset="voc07", use_legacy_coordinate=True),
                   dict(iou_thr=0.7, scale_ranges=[(0, 20), (20, 1000)])):
        ours_map, ours = eval_map(dets, anns, logger="silent", **kwargs)
        ref_map, ref = mmdet_v2_eval.eval_map(dets, anns, logger="silent", **kwargs)
        np.testing.assert_array_equal(np.asarray(ours_map), np.asarray(ref_map))
        for a, b in zip(ours, ref):
            np.testing.assert_array_equal(a["ap"], b["ap"])
            np.testing.assert_array_equal(a["recall"], b["recall"])
            np.testing.assert_array_equal(a["precision"], b["precision"])
            np.testing.assert_array_equal(a["num_gts"], b["num_gts"])


def test_bbox_overlaps_matches_mmdet_v2(mmdet_v2_eval):
    rng = np.random.default_rng(3)
    a = rng.uniform(0, 50, (7, 4)).astype(np.float32)
    b = rng.uniform(0, 50, (4, 4)).astype(np.float32)
    a[:, 2:] += a[:, :2]
    b[:, 2:] += b[:, :2]
    for legacy in (False, True):
        for mode in ("iou", "iof"):
            ours = bbox_overlaps(a, b, mode=mode, use_legacy_coordinate=legacy)
            ref = mmdet_v2_eval.bbox_overlaps(a, b, mode=mode, use_legacy_coordinate=legacy)
            np.testing.assert_array_equal(ours, ref)
            # v2 swaps the sets when the first is larger; the result must not care
            ref_t = mmdet_v2_eval.bbox_overlaps(b, a, mode=mode, use_legacy_coordinate=legacy)
            np.testing.assert_array_equal(bbox_overlaps(b, a, mode=mode,
                                                        use_legacy_coordinate=legacy), ref_t)
    assert bbox_overlaps(a[:0], b).shape == (0, 4)
