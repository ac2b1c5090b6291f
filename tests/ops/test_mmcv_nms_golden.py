"""nms, soft_nms and batched_nms replayed against outputs of mmcv-full 1.7.2's compiled ops.

The golden file holds random boxes (some with integer corners, so IoUs land exactly on
thresholds and some boxes are empty) and scores (some tied), and what mmcv returned for them
(``data/make_mmcv_nms_golden.py`` regenerates it). Kept indices must match exactly; scores
that soft-NMS rescales may differ in the last float32 bit (``exp``).
"""

from pathlib import Path

import numpy as np
import pytest
import torch

from detbox.ops import batched_nms, nms, soft_nms
from detbox.ops.nms import nms_order

GOLDEN = np.load(Path(__file__).parent / "data" / "mmcv_nms_golden.npz")
KEYS = [str(k) for k in GOLDEN["keys"]]
NUM_CASES = sum(1 for name in GOLDEN.files if name.endswith("/boxes"))


def run(key, boxes, scores, idxs):
    """detbox's answer for a golden key such as ``soft_nms/0.5/gaussian``."""
    op, thr, arg = (key.split("/") + [None])[:3]
    thr = float(thr)
    if op == "nms":
        return nms(boxes, scores, thr, offset=int(arg))[1], None
    if op == "nms_filtered":
        return nms(boxes, scores, thr, score_threshold=0.3, max_num=7)[1], None
    if op == "soft_nms":
        dets, keep = soft_nms(boxes, scores, thr, sigma=0.5, min_score=0.2, method=arg)
        return keep, dets[:, 4]
    cfg = dict(type="nms", iou_threshold=thr, split_thr=int(arg))
    if op == "batched_soft_nms":
        cfg.update(type="soft_nms", min_score=0.05)
    dets, keep = batched_nms(boxes, scores, idxs, cfg)
    return keep, dets[:, 4]


@pytest.mark.parametrize("case", range(NUM_CASES))
def test_matches_mmcv(case):
    boxes = torch.from_numpy(GOLDEN[f"{case}/boxes"])
    scores = torch.from_numpy(GOLDEN[f"{case}/scores"])
    idxs = torch.from_numpy(GOLDEN[f"{case}/idxs"])
    if not torch.equal(nms_order(scores), torch.from_numpy(GOLDEN[f"{case}/order"])):
        pytest.skip("this torch sorts tied scores differently from the one mmcv ran with")
    lengths = GOLDEN[f"{case}/lengths"].tolist()
    keeps = np.split(GOLDEN[f"{case}/keeps"].astype(np.int64), np.cumsum(lengths)[:-1])
    rescored = torch.from_numpy(GOLDEN[f"{case}/rescored"])
    start = 0
    for key, expected in zip(KEYS, keeps):
        keep, new_scores = run(key, boxes, scores, idxs)
        assert keep.tolist() == expected.tolist(), key
        if new_scores is not None:
            ref = rescored[start:start + len(expected)]
            start += len(expected)
            torch.testing.assert_close(new_scores, ref, rtol=1e-6, atol=0, equal_nan=True,
                                       msg=key)
    assert start == rescored.numel()
