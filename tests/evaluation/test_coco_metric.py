import copy
import json
import logging
import math
import os

import numpy as np
import pytest
from faster_coco_eval import COCO, COCOeval_faster

from detbox.evaluation import coco_evaluate, format_results, results2json
from detbox.evaluation.coco_metric import build_coco

# Categories listed as ids 3, 1, 5 (not sorted): label 0 -> id 3 'b', 1 -> id 1 'a', 2 -> id 5.
CAT_IDS = [3, 1, 5]
NAMES = ["b", "a", "c"]
IMG_IDS = [11, 12]


def gt_dict():
    """Image 11: 'a' box A (20x20, small); image 12: 'b' box B (40x40, medium); 'c' has none."""
    return dict(
        images=[dict(id=11, width=100, height=100, file_name="x.jpg"),
                dict(id=12, width=100, height=100, file_name="y.jpg")],
        categories=[dict(id=3, name="b"), dict(id=1, name="a"), dict(id=5, name="c")],
        annotations=[
            dict(id=1, image_id=11, category_id=1, bbox=[10, 10, 20, 20], area=400, iscrowd=0),
            dict(id=2, image_id=12, category_id=3, bbox=[50, 50, 40, 40], area=1600, iscrowd=0),
        ])


def box(x1, y1, x2, y2, s):
    return np.array([[x1, y1, x2, y2, s]], dtype=np.float32)


def empty():
    return np.zeros((0, 5), dtype=np.float32)


def perfect():
    return [[empty(), box(10, 10, 30, 30, 0.9), empty()],
            [box(50, 50, 90, 90, 0.8), empty(), empty()]]


def partial():
    """'a' found exactly; 'b' found with IoU 1000/1600 = 0.625 (a TP at IoU .5, .55, .6 only)."""
    return [[empty(), box(10, 10, 30, 30, 0.9), empty()],
            [box(50, 50, 90, 75, 0.8), empty(), empty()]]


def run(results, **kwargs):
    kwargs.setdefault("logger", "silent")
    return coco_evaluate(gt_dict(), results, CAT_IDS, IMG_IDS, NAMES, **kwargs)


def test_perfect_detections_give_one():
    res = run(perfect())
    assert list(res) == ["bbox_mAP", "bbox_mAP_50", "bbox_mAP_75", "bbox_mAP_s", "bbox_mAP_m",
                         "bbox_mAP_l", "bbox_mAP_copypaste"]
    assert res["bbox_mAP"] == res["bbox_mAP_50"] == res["bbox_mAP_s"] == res["bbox_mAP_m"] == 1.0
    assert res["bbox_mAP_l"] == -1.0  # no large object
    assert res["bbox_mAP_copypaste"] == "1.0000 1.0000 1.0000 1.0000 1.0000 -1.0000"


def test_partial_case_by_hand_and_against_the_library(caplog):
    with caplog.at_level(logging.INFO, logger="detbox.evaluation"):
        res = run(partial(), logger=None)
    # 'a': AP 1; 'b': AP 1 at 3 of 10 IoU thresholds -> 0.3; 'c' has no ground truth
    assert res["bbox_mAP"] == 0.65
    assert res["bbox_mAP_50"] == 1.0
    assert res["bbox_mAP_75"] == 0.5
    assert res["bbox_mAP_s"] == 1.0 and res["bbox_mAP_m"] == 0.3 and res["bbox_mAP_l"] == -1.0
    assert res["bbox_mAP_copypaste"] == "0.6500 1.0000 0.5000 1.0000 0.3000 -1.0000"
    assert "Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.650" \
        in caplog.text
    assert "bbox_mAP_l is -1: no ground-truth object is large" in caplog.text

    # the evaluator library called directly gives the same stats
    gt = COCO()
    gt.dataset = gt_dict()
    gt.createIndex()
    dets = [dict(image_id=11, category_id=1, bbox=[10, 10, 20, 20], score=0.9),
            dict(image_id=12, category_id=3, bbox=[50, 50, 40, 25], score=0.8)]
    ev = COCOeval_faster(gt, gt.loadRes(dets), "bbox", print_function=lambda *a: None)
    ev.params.catIds, ev.params.imgIds, ev.params.maxDets = CAT_IDS, IMG_IDS, [100, 300, 1000]
    ev.evaluate()
    ev.accumulate()
    ev.summarize()
    expected = [float(f"{s:.4f}") for s in ev.stats[:6]]
    assert [res[k] for k in list(res)[:6]] == expected


def test_rounding_is_v2s_four_places():
    # on image 12 two misses outscore the hit: 'b' has AP 1/3 -> mAP (1 + 1/3) / 2
    results = perfect()
    results[1][0] = np.vstack([box(0, 0, 5, 5, 0.95), box(0, 5, 5, 10, 0.9),
                               box(50, 50, 90, 90, 0.8)])
    res = run(results)
    assert res["bbox_mAP"] == 0.6667  # float(f'{x:.4f}'), not 3 places
    assert res["bbox_mAP_copypaste"].startswith("0.6667 0.6667 0.6667 ")


def test_classwise_keys_follow_category_ids(caplog):
    with caplog.at_level(logging.INFO, logger="detbox.evaluation"):
        res = run(partial(), classwise=True, logger=None)
    # per-class keys come after v2's keys (save_best='auto' still picks bbox_mAP)
    assert list(res)[0] == "bbox_mAP"
    assert res["bbox_AP_b"] == 0.3 and res["bbox_AP_a"] == 1.0
    assert math.isnan(res["bbox_AP_c"])
    assert "| category | AP    | category | AP    | category | AP  |" in caplog.text
    assert "| b        | 0.300 | a        | 1.000 | c        | nan |" in caplog.text


def test_empty_results_give_zeros_and_say_why(caplog):
    none = [[empty(), empty(), empty()], [empty(), empty(), empty()]]
    with caplog.at_level(logging.WARNING, logger="detbox.evaluation"):
        res = run(none, classwise=True, metric=["bbox", "proposal"], logger=None)
    assert res["bbox_mAP"] == 0.0 and res["bbox_mAP_l"] == 0.0 and res["bbox_AP_a"] == 0.0
    assert res["bbox_mAP_copypaste"] == "0.0000 0.0000 0.0000 0.0000 0.0000 0.0000"
    assert res["AR@100"] == 0.0 and res["AR_l@1000"] == 0.0
    assert "The testing results of the whole dataset is empty" in caplog.text


def test_stat0_uses_100_detections_as_pycocotools():
    # 150 detections on image 12 for 'b'; 119 misses score higher than the hit
    top = [[0, 0, 5, 5, 0.9 - i * 0.001] for i in range(119)]
    low = [[0, 0, 5, 5, 0.5 - i * 0.001] for i in range(30)]
    dets = np.array(top + [[50, 50, 90, 90, 0.7]] + low, dtype=np.float32)
    res = coco_evaluate(gt_dict(), [[dets, empty(), empty()]], CAT_IDS, [12], NAMES,
                        logger="silent", metric_items=["mAP", "mAP_50", "AR@100", "AR@1000"])
    assert res["bbox_mAP"] == 0.0  # the hit is 120th: outside the top 100
    assert res["bbox_mAP_50"] == float(f"{1 / 120:.4f}")  # maxDets 1000
    assert res["bbox_AR@100"] == 0.0 and res["bbox_AR@1000"] == 1.0
    assert list(res) == ["bbox_mAP", "bbox_mAP_50", "bbox_AR@100", "bbox_AR@1000",
                         "bbox_mAP_copypaste"]


def test_proposal_metrics_from_detections_and_proposals():
    expected = {"AR@100": 0.65, "AR@300": 0.65, "AR@1000": 0.65, "AR_s@1000": 1.0,
                "AR_m@1000": 0.3, "AR_l@1000": -1.0}
    assert run(partial(), metric="proposal") == expected
    proposals = [box(10, 10, 30, 30, 0.9), box(50, 50, 90, 75, 0.8)]
    assert run(proposals, metric="proposal") == expected
    with pytest.raises(KeyError, match="bbox is not in results"):
        run(proposals, metric="bbox")
    fast = run(proposals, metric="proposal_fast")
    assert fast == {"AR@100": pytest.approx(0.65), "AR@300": pytest.approx(0.65),
                    "AR@1000": pytest.approx(0.65)}


def test_results2json_and_format_results_round_trip(tmp_path):
    files = results2json(partial(), IMG_IDS, CAT_IDS, str(tmp_path / "sub" / "res"))
    assert files == {"bbox": str(tmp_path / "sub" / "res.bbox.json"),
                     "proposal": str(tmp_path / "sub" / "res.bbox.json")}
    with open(files["bbox"]) as f:
        entries = json.load(f)
    assert entries == [
        dict(image_id=11, bbox=[10.0, 10.0, 20.0, 20.0], score=pytest.approx(0.9),
             category_id=1),
        dict(image_id=12, bbox=[50.0, 50.0, 40.0, 25.0], score=pytest.approx(0.8),
             category_id=3)]
    assert entries[0]["score"] == float(np.float32(0.9))

    files, tmp = format_results([box(1, 2, 4, 8, 0.5), empty()], IMG_IDS, CAT_IDS)
    assert list(files) == ["proposal"] and files["proposal"].endswith("results.proposal.json")
    with open(files["proposal"]) as f:
        assert json.load(f) == [dict(image_id=11, bbox=[1.0, 2.0, 3.0, 6.0], score=0.5,
                                     category_id=1)]
    tmp.cleanup()
    assert not os.path.exists(files["proposal"])

    # evaluating with a prefix writes the same file the evaluation used
    prefix = str(tmp_path / "eval")
    run(partial(), jsonfile_prefix=prefix)
    with open(prefix + ".bbox.json") as f:
        assert json.load(f) == entries


def test_the_ground_truth_dict_is_not_changed():
    gt = gt_dict()
    before = copy.deepcopy(gt)
    coco_evaluate(gt, partial(), CAT_IDS, IMG_IDS, NAMES, logger="silent")
    assert gt == before
    coco = build_coco(gt)
    assert build_coco(coco) is coco


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="1 != 2"):
        run(partial()[:1])
    with pytest.raises(ValueError, match="metric 'segm' needs a 'segmentation'"):
        run(partial(), metric="segm")
    with pytest.raises(KeyError, match="metric item 'mAP_x'"):
        run(partial(), metric_items="mAP_x")
    with pytest.raises(ValueError, match="image ids"):
        coco_evaluate(gt_dict(), partial(), CAT_IDS, [11, 99], NAMES, logger="silent")
    gt = gt_dict()
    del gt["annotations"][1]["area"]
    with pytest.raises(ValueError, match=r"annotation id 2 \(image id 12\) has no 'area'"):
        coco_evaluate(gt, partial(), CAT_IDS, IMG_IDS, NAMES, logger="silent")
    with pytest.raises(ValueError, match=r"results\[1\]\[0\] \(image id 12\)"):
        run([partial()[0], [np.zeros((1, 4)), empty(), empty()]])


def test_random_case_matches_the_library_stats():
    rng = np.random.default_rng(0)
    images, anns, results = [], [], []
    for i in range(8):
        images.append(dict(id=i + 1, width=300, height=300, file_name=f"{i}.jpg"))
        per_class = []
        for cat in CAT_IDS:
            n = int(rng.integers(0, 4))
            xy = rng.uniform(0, 200, (n, 2))
            wh = rng.uniform(5, 120, (n, 2))
            for b in np.hstack([xy, wh]):
                anns.append(dict(id=len(anns) + 1, image_id=i + 1, category_id=cat,
                                 bbox=b.tolist(), area=float(b[2] * b[3]),
                                 iscrowd=int(rng.uniform() < 0.1)))
            m = int(rng.integers(0, 10))
            src = np.hstack([xy, xy + wh])[rng.integers(0, n, m)] if n else \
                rng.uniform(0, 100, (m, 4)) + [0, 0, 100, 100]
            boxes = src + rng.normal(0, 6, (m, 4))
            per_class.append(np.hstack([boxes, rng.uniform(0, 1, (m, 1))]).astype(np.float32))
        results.append(per_class)
    gt = dict(images=images, annotations=anns, categories=gt_dict()["categories"])
    img_ids = [im["id"] for im in images]
    res = coco_evaluate(gt, results, CAT_IDS, img_ids, NAMES, logger="silent",
                        metric=["bbox", "proposal"])

    coco = build_coco(gt)
    stats = {}
    for use_cats in (1, 0):
        ev = COCOeval_faster(coco, coco.loadRes(json.loads(json.dumps(
            [dict(image_id=img_ids[i], bbox=[float(b[0]), float(b[1]), float(b[2] - b[0]),
                                               float(b[3] - b[1])],
                  score=float(b[4]), category_id=CAT_IDS[c])
             for i, r in enumerate(results) for c, bs in enumerate(r) for b in bs]))),
            "bbox", print_function=lambda *a: None)
        ev.params.catIds, ev.params.imgIds = CAT_IDS, img_ids
        ev.params.maxDets, ev.params.useCats = [100, 300, 1000], use_cats
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
        stats[use_cats] = ev.stats
    det_keys = ["bbox_mAP", "bbox_mAP_50", "bbox_mAP_75", "bbox_mAP_s", "bbox_mAP_m",
                "bbox_mAP_l"]
    assert [res[k] for k in det_keys] == [float(f"{s:.4f}") for s in stats[1][:6]]
    ar_keys = ["AR@100", "AR@300", "AR@1000", "AR_s@1000", "AR_m@1000", "AR_l@1000"]
    assert [res[k] for k in ar_keys] == [float(f"{s:.4f}") for s in stats[0][6:12]]
    assert 0 < res["bbox_mAP"] < 1 and 0 < res["AR@100"] < 1
