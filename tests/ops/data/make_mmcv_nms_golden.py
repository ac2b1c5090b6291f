"""Regenerate ``mmcv_nms_golden.npz``: outputs of mmcv-full 1.7.2's compiled CPU NMS ops.

Run with a Python that has mmcv-full 1.7.2 (compiled ops) and its torch::

    python tests/ops/data/make_mmcv_nms_golden.py tests/ops/data/mmcv_nms_golden.npz

The inputs are drawn here with a fixed seed: random boxes (some rounded to integers, so
exact-threshold IoUs and empty boxes occur) and scores (some quantised, so ties occur).
``tests/ops/test_mmcv_nms_golden.py`` replays them through detbox.
"""

import sys

THRESHOLDS = (0.3, 0.5, 0.7, 1 / 3)
METHODS = ("linear", "gaussian", "naive")


def make_cases():
    import torch

    g = torch.Generator().manual_seed(0)
    cases = []
    for trial in range(12):
        n = (17, 60, 200)[trial % 3]
        xy = torch.rand(n, 2, generator=g) * 60
        boxes = torch.cat([xy, xy + torch.rand(n, 2, generator=g) * 30 + 0.5], 1)
        if trial % 4 < 2:
            boxes = boxes.round()
        scores = torch.rand(n, generator=g)
        if trial % 2 == 0:
            scores = (scores * 4).round() / 4 + 0.01
        idxs = torch.randint(0, 3, (n,), generator=g)
        cases.append(dict(boxes=boxes, scores=scores, idxs=idxs,
                          order=scores.sort(0, descending=True)[1]))
    return cases


def main(path):
    import mmcv
    import numpy as np
    import torch
    from mmcv.ops import batched_nms, nms, soft_nms

    cases = make_cases()
    for case in cases:
        b, s, idxs = case["boxes"], case["scores"], case["idxs"]
        out = {}
        for thr in THRESHOLDS:
            for offset in (0, 1):
                out[f"nms/{thr}/{offset}"] = nms(b, s, thr, offset=offset)[1]
            out[f"nms_filtered/{thr}"] = nms(b, s, thr, score_threshold=0.3, max_num=7)[1]
            for method in METHODS:
                out[f"soft_nms/{thr}/{method}"] = soft_nms(b, s, thr, sigma=0.5, min_score=0.2,
                                                           method=method)
            for split in (10000, 10):
                out[f"batched_nms/{thr}/{split}"] = batched_nms(
                    b, s, idxs, dict(type="nms", iou_threshold=thr, split_thr=split))
                out[f"batched_soft_nms/{thr}/{split}"] = batched_nms(
                    b, s, idxs, dict(type="soft_nms", iou_threshold=thr, split_thr=split,
                                     min_score=0.05))
        case["out"] = out
    # Per case: the inputs, then every op's kept indices concatenated in KEY order (with their
    # lengths), and the score column of the ops that rescore (soft-NMS, batched NMS).
    keys = list(cases[0]["out"])
    arrays = {"versions": np.array([mmcv.__version__, torch.__version__]),
              "keys": np.array(keys)}
    for i, case in enumerate(cases):
        for key in ("boxes", "scores", "idxs", "order"):
            arrays[f"{i}/{key}"] = case[key].numpy()
        keeps, rescored = [], []
        for key in keys:
            value = case["out"][key]
            if isinstance(value, tuple):  # (dets, inds)
                rescored.append(value[0][:, 4])
                value = value[1]
            keeps.append(value)
        arrays[f"{i}/lengths"] = np.array([len(k) for k in keeps], dtype=np.int16)
        arrays[f"{i}/keeps"] = torch.cat(keeps).numpy().astype(np.int16)
        arrays[f"{i}/rescored"] = torch.cat(rescored).numpy()
    np.savez_compressed(path, **arrays)


if __name__ == "__main__":
    main(sys.argv[1])
