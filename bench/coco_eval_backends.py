"""Side-by-side benchmark of COCO bbox evaluators: ``pycocotools`` vs ``faster-coco-eval``.

What it measures
----------------
1. Builds a synthetic, seeded COCO-format ground truth (images of varied size,
   N categories, several boxes per image spanning the small/medium/large COCO
   area ranges, a fraction of ``iscrowd`` boxes) and synthetic detections
   (jittered copies of GT boxes, duplicates, wrong-class hits and random false
   positives, random scores, at most ``--max-dets`` per image).
2. Evaluates ``bbox`` with both backends, starting from in-memory dicts
   (no JSON files):

   * pycocotools:      ``pycocotools.coco.COCO`` + ``pycocotools.cocoeval.COCOeval``
   * faster-coco-eval: ``faster_coco_eval.COCO`` + ``faster_coco_eval.COCOeval_faster``
     (``--faster-mode compat`` uses ``faster_coco_eval.core.faster_eval_api.COCOeval``,
     the class that ``faster_coco_eval.init_as_pycocotools()`` exposes as
     ``pycocotools.cocoeval.COCOeval``).

3. Times ``evaluate() + accumulate() + summarize()`` (fresh ``COCOeval`` per
   repeat, best of ``--repeats``; wall and process-CPU time), and separately
   the index build (``COCO`` + ``loadRes``).
4. Compares the 12 summary stats and the full ``eval['precision']`` array
   (shape ``[T, R, K, A, M]``; per-class AP is derived from it) plus
   ``eval['recall']`` / ``eval['scores']``, reporting max absolute differences.

How to run
----------
Both backends must be importable, e.g. from a side venv::

    python3 -m venv /tmp/cocobench
    /tmp/cocobench/bin/pip install numpy pycocotools faster-coco-eval
    /tmp/cocobench/bin/python bench/coco_eval_backends.py
    /tmp/cocobench/bin/python bench/coco_eval_backends.py --images 5000 --repeats 3
    # score ties + MMDetection-v2-style maxDets=[100, 300, 1000]:
    /tmp/cocobench/bin/python bench/coco_eval_backends.py --score-decimals 2 --mmdet-maxdets
    # >100 dets per (image, category) with maxDets=[100, 300, 1000]: shows that
    # stats[0] is taken at maxDets=100 by pycocotools but at 1000 by faster-coco-eval
    /tmp/cocobench/bin/python bench/coco_eval_backends.py --categories 1 \
        --fp-per-image 200 --max-dets 300 --uniform-scores --mmdet-maxdets

Exit status: 0 if everything ran and agreed within ``--tol``, 1 if results
disagree, 2 if a backend is missing.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import gc
import io
import math
import platform
import sys
import time

import numpy as np

STAT_NAMES = [
    "AP  IoU=.50:.95 all    100",
    "AP  IoU=.50     all    100",
    "AP  IoU=.75     all    100",
    "AP  IoU=.50:.95 small  100",
    "AP  IoU=.50:.95 medium 100",
    "AP  IoU=.50:.95 large  100",
    "AR  IoU=.50:.95 all      1",
    "AR  IoU=.50:.95 all     10",
    "AR  IoU=.50:.95 all    100",
    "AR  IoU=.50:.95 small  100",
    "AR  IoU=.50:.95 medium 100",
    "AR  IoU=.50:.95 large  100",
]


# --------------------------------------------------------------------------- #
# Synthetic data
# --------------------------------------------------------------------------- #
def make_ground_truth(
    rng: np.random.Generator, n_images: int, n_cats: int, mean_boxes: float, crowd_frac: float
) -> dict:
    """COCO-format GT dict with box sizes log-uniform over ~6..500 px side."""
    categories = [
        {"id": c + 1, "name": f"class_{c + 1}", "supercategory": "thing"} for c in range(n_cats)
    ]
    images, annotations = [], []
    ann_id = 1
    for i in range(n_images):
        # Non-contiguous image ids, like real COCO.
        img_id = 1000 + 7 * i
        w = int(rng.integers(320, 1334))
        h = int(rng.integers(240, 801))
        images.append({"id": img_id, "file_name": f"{img_id:012d}.jpg", "width": w, "height": h})
        n_boxes = int(rng.poisson(mean_boxes)) + 1
        for _ in range(n_boxes):
            # sqrt(area) log-uniform in [6, 500] covers small (<32), medium, large (>96).
            side = float(np.exp(rng.uniform(math.log(6), math.log(500))))
            aspect = float(np.exp(rng.uniform(math.log(0.4), math.log(2.5))))
            bw = min(side * math.sqrt(aspect), w - 1.0)
            bh = min(side / math.sqrt(aspect), h - 1.0)
            x = float(rng.uniform(0, w - bw))
            y = float(rng.uniform(0, h - bh))
            iscrowd = int(rng.random() < crowd_frac)
            # Mask area is typically smaller than the box area; COCOeval uses
            # ann['area'] (not the box) for the area-range split.
            area = bw * bh * float(rng.uniform(0.55, 1.0))
            annotations.append(
                {
                    "id": ann_id,
                    "image_id": img_id,
                    "category_id": int(rng.integers(1, n_cats + 1)),
                    "bbox": [round(x, 2), round(y, 2), round(bw, 2), round(bh, 2)],
                    "area": round(area, 2),
                    "iscrowd": iscrowd,
                    # Polygon = the box; not used by bbox eval but keeps the dict valid COCO.
                    "segmentation": [[x, y, x + bw, y, x + bw, y + bh, x, y + bh]],
                }
            )
            ann_id += 1
    return {
        "info": {"description": "detbox synthetic bench"},
        "images": images,
        "annotations": annotations,
        "categories": categories,
    }


def make_detections(
    rng: np.random.Generator,
    gt: dict,
    max_dets: int,
    n_cats: int,
    mean_fp: float,
    score_decimals: int | None,
    uniform_scores: bool,
) -> list:
    """Detections: jittered TPs, duplicates, wrong-class hits, random FPs."""
    by_img: dict = {img["id"]: [] for img in gt["images"]}
    for ann in gt["annotations"]:
        by_img[ann["image_id"]].append(ann)
    img_size = {img["id"]: (img["width"], img["height"]) for img in gt["images"]}

    def jitter(bbox, sigma):
        x, y, w, h = bbox
        cx, cy = x + w / 2, y + h / 2
        cx += rng.normal(0, sigma) * w
        cy += rng.normal(0, sigma) * h
        w *= math.exp(rng.normal(0, sigma))
        h *= math.exp(rng.normal(0, sigma))
        return [cx - w / 2, cy - h / 2, max(w, 1.0), max(h, 1.0)]

    dets = []
    for img_id, anns in by_img.items():
        cand = []  # (score, category_id, bbox)
        for ann in anns:
            if rng.random() < 0.85:  # recall ~85 %
                sigma = float(rng.uniform(0.02, 0.2))  # spread of IoUs over 0.5..0.95
                cand.append((float(rng.beta(5, 2)), ann["category_id"], jitter(ann["bbox"], sigma)))
            if rng.random() < 0.15:  # duplicate -> FP at matching time
                cand.append((float(rng.beta(2, 3)), ann["category_id"], jitter(ann["bbox"], 0.1)))
            if rng.random() < 0.08:  # right place, wrong class
                cand.append(
                    (
                        float(rng.beta(2, 4)),
                        int(rng.integers(1, n_cats + 1)),
                        jitter(ann["bbox"], 0.05),
                    )
                )
        w, h = img_size[img_id]
        for _ in range(int(rng.poisson(mean_fp))):
            side = float(np.exp(rng.uniform(math.log(6), math.log(400))))
            bw, bh = min(side, w - 1.0), min(side * float(rng.uniform(0.5, 2)), h - 1.0)
            cand.append(
                (
                    float(rng.beta(1.2, 5)),
                    int(rng.integers(1, n_cats + 1)),
                    [float(rng.uniform(0, w - bw)), float(rng.uniform(0, h - bh)), bw, bh],
                )
            )
        cand.sort(key=lambda c: -c[0])
        for score, cat, bbox in cand[:max_dets]:
            if uniform_scores:
                score = float(rng.random())
            if score_decimals is not None:
                score = round(score, score_decimals)
            dets.append(
                {
                    "image_id": img_id,
                    "category_id": cat,
                    "bbox": [round(v, 2) for v in bbox],
                    "score": score,
                }
            )
    return dets


# --------------------------------------------------------------------------- #
# Backends
# --------------------------------------------------------------------------- #
def load_backends(faster_mode: str):
    """Return {name: (COCO, COCOeval, version)}; exit(2) if any is missing."""
    backends, missing = {}, []
    try:
        import pycocotools
        from pycocotools.coco import COCO as PyCOCO
        from pycocotools.cocoeval import COCOeval as PyCOCOeval

        ver = getattr(pycocotools, "__version__", None)
        if ver is None:
            from importlib.metadata import version

            ver = version("pycocotools")
        backends["pycocotools"] = (PyCOCO, PyCOCOeval, ver)
    except ImportError as exc:
        missing.append(f"pycocotools ({exc}); install with `pip install pycocotools`")
    try:
        import faster_coco_eval
        from faster_coco_eval import COCO as FCOCO

        if faster_mode == "native":
            from faster_coco_eval import COCOeval_faster as FEval
        else:
            from faster_coco_eval.core.faster_eval_api import COCOeval as FEval
        backends["faster-coco-eval"] = (FCOCO, FEval, faster_coco_eval.__version__)
    except ImportError as exc:
        missing.append(f"faster-coco-eval ({exc}); install with `pip install faster-coco-eval`")
    if missing:
        for m in missing:
            print(f"ERROR: backend not available: {m}", file=sys.stderr)
        sys.exit(2)
    return backends


def build_coco(coco_cls, gt: dict, dets: list):
    """GT + results objects from in-memory data (works with both backends).

    pycocotools' ``COCO()`` only accepts a file path, so the portable way is
    ``COCO(); .dataset = d; .createIndex()``.  Both ``loadRes`` implementations
    mutate the result dicts in place (add id/area/iscrowd/segmentation), and
    faster's ``COCO(dict)`` only shallow-copies, so each backend gets deep copies.
    """
    gt, dets = copy.deepcopy(gt), copy.deepcopy(dets)
    gc.collect()
    w0 = time.perf_counter()
    coco_gt = coco_cls()
    coco_gt.dataset = gt
    coco_gt.createIndex()
    coco_dt = coco_gt.loadRes(dets)
    return coco_gt, coco_dt, time.perf_counter() - w0


def run_eval(eval_cls, coco_gt, coco_dt, max_dets_param):
    ev = eval_cls(coco_gt, coco_dt, "bbox")
    if max_dets_param is not None:
        ev.params.maxDets = list(max_dets_param)
    t = {}
    for phase in ("evaluate", "accumulate", "summarize"):
        w0, c0 = time.perf_counter(), time.process_time()
        getattr(ev, phase)()
        t[phase] = (time.perf_counter() - w0, time.process_time() - c0)
    return ev, t


def bench_backend(name, coco_cls, eval_cls, gt, dets, repeats, max_dets_param):
    sink = io.StringIO()  # pycocotools print()s progress; keep output readable
    with contextlib.redirect_stdout(sink):
        coco_gt, coco_dt, t_index = build_coco(coco_cls, gt, dets)
        best, best_ev = None, None
        for _ in range(repeats):
            gc.collect()
            ev, t = run_eval(eval_cls, coco_gt, coco_dt, max_dets_param)
            tot = sum(v[0] for v in t.values())
            if best is None or tot < best["total"][0]:
                best = dict(t)
                best["total"] = (tot, sum(v[1] for v in t.values()))
                best_ev = ev
    return {
        "name": name,
        "eval": best_ev,
        "times": best,
        "index_s": t_index,
        "stdout_lines": len(sink.getvalue().splitlines()),
    }


def max_abs_diff(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return float("inf")
    return float(np.max(np.abs(a - b))) if a.size else 0.0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--images", type=int, default=500)
    p.add_argument("--categories", type=int, default=10)
    p.add_argument(
        "--boxes-per-image", type=float, default=7.0, help="mean GT boxes per image (Poisson + 1)"
    )
    p.add_argument("--crowd-frac", type=float, default=0.03)
    p.add_argument(
        "--fp-per-image",
        type=float,
        default=25.0,
        help="mean random false positives per image (Poisson)",
    )
    p.add_argument("--max-dets", type=int, default=100, help="cap of detections per image")
    p.add_argument(
        "--score-decimals",
        type=int,
        default=None,
        help="round scores (creates ties, tests sort stability)",
    )
    p.add_argument(
        "--uniform-scores",
        action="store_true",
        help="draw every score from U(0,1) (uninformative scores, low AP)",
    )
    p.add_argument(
        "--mmdet-maxdets",
        action="store_true",
        help="set params.maxDets=[100, 300, 1000] like MMDetection v2 CocoDataset",
    )
    p.add_argument(
        "--faster-mode",
        choices=("native", "compat"),
        default="native",
        help="native: COCOeval_faster; compat: the pycocotools drop-in COCOeval class",
    )
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--tol", type=float, default=1e-9)
    args = p.parse_args(argv)

    backends = load_backends(args.faster_mode)
    rng = np.random.default_rng(args.seed)
    gt = make_ground_truth(rng, args.images, args.categories, args.boxes_per_image, args.crowd_frac)
    dets = make_detections(
        rng,
        gt,
        args.max_dets,
        args.categories,
        args.fp_per_image,
        args.score_decimals,
        args.uniform_scores,
    )
    n_crowd = sum(a["iscrowd"] for a in gt["annotations"])
    areas = np.array([a["area"] for a in gt["annotations"]])
    print(f"python {platform.python_version()}, numpy {np.__version__}")
    for name, (_, _, ver) in backends.items():
        print(f"{name} {ver}")
    print(
        f"data: {len(gt['images'])} images, {args.categories} cats, "
        f"{len(gt['annotations'])} GT ({n_crowd} crowd; small/med/large = "
        f"{(areas < 32**2).sum()}/{((areas >= 32**2) & (areas < 96**2)).sum()}/"
        f"{(areas >= 96**2).sum()}), {len(dets)} dets, seed {args.seed}"
    )
    max_dets_param = [100, 300, 1000] if args.mmdet_maxdets else None

    res = {}
    for name, (coco_cls, eval_cls, _) in backends.items():
        res[name] = bench_backend(name, coco_cls, eval_cls, gt, dets, args.repeats, max_dets_param)

    py, fa = res["pycocotools"], res["faster-coco-eval"]
    s_py, s_fa = np.asarray(py["eval"].stats), np.asarray(fa["eval"].stats)
    print(f"\n{'stat':<28}{'pycocotools':>14}{'faster':>14}{'|diff|':>12}")
    for i, label in enumerate(STAT_NAMES):
        print(f"{label:<28}{s_py[i]:>14.6f}{s_fa[i]:>14.6f}{abs(s_py[i] - s_fa[i]):>12.2e}")
    d_stats = max_abs_diff(s_py[:12], s_fa[:12])

    diffs = {"stats[0:12]": d_stats}
    print()
    for key in ("precision", "recall", "scores"):
        a, b = py["eval"].eval[key], fa["eval"].eval[key]
        print(f"eval['{key}'] shape: pycocotools {tuple(np.shape(a))}, faster {tuple(np.shape(b))}")
        diffs[f"eval['{key}']"] = max_abs_diff(a, b)
    # Per-class AP as MMDetection computes it (area=all, maxDets=last, ignore -1).
    per_cls = []
    for ev in (py["eval"], fa["eval"]):
        prec = np.asarray(ev.eval["precision"])
        cls_ap = []
        for k in range(prec.shape[2]):
            pk = prec[:, :, k, 0, -1]
            pk = pk[pk > -1]
            cls_ap.append(float(np.mean(pk)) if pk.size else float("nan"))
        per_cls.append(np.array(cls_ap))
    diffs["per-class AP (from precision)"] = max_abs_diff(per_cls[0], per_cls[1])

    print("agreement (max abs diff):")
    for k, v in diffs.items():
        print(f"  {k:<32} {v:.3e}")

    print(f"\ntiming (best of {args.repeats}; wall s / cpu s):")
    print(f"  {'phase':<12}{'pycocotools':>22}{'faster-coco-eval':>22}")
    for phase in ("evaluate", "accumulate", "summarize", "total"):
        a, b = py["times"][phase], fa["times"][phase]
        print(f"  {phase:<12}{a[0]:>12.4f} /{a[1]:>8.4f}{b[0]:>12.4f} /{b[1]:>8.4f}")
    print(
        f"  {'index build':<12}{py['index_s']:>12.4f}{'':>10}{fa['index_s']:>12.4f}"
        "   (COCO + createIndex + loadRes, once)"
    )
    ratio = py["times"]["total"][0] / fa["times"]["total"][0]
    print(f"\nspeed ratio (eval+acc+summ wall, pycocotools / faster): {ratio:.1f}x")
    print(
        f"stdout lines printed during eval: pycocotools {py['stdout_lines']}, "
        f"faster {fa['stdout_lines']}"
    )
    if fa["times"]["accumulate"][0] < 0.01 * fa["times"]["evaluate"][0]:
        print(
            "note: faster-coco-eval (separate_eval=False) accumulates inside evaluate(); "
            "compare totals, not phases."
        )

    worst = max(diffs.values())
    ok = worst <= args.tol
    stat_bad = np.flatnonzero(np.abs(s_py[:12] - s_fa[:12]) > args.tol).tolist()
    if stat_bad == [0] and max(v for k, v in diffs.items() if k != "stats[0:12]") <= args.tol:
        md = list(py["eval"].params.maxDets)
        print(
            f"note: only stats[0] differs while eval arrays agree: with maxDets={md}, "
            f"pycocotools reports stats[0] at maxDets=100 (hard-coded default) but "
            f"faster-coco-eval at maxDets[-1]={md[-1]}; stats[1:6] use maxDets[2] in "
            "both. It only shows when an (image, category) has >100 detections."
        )
    print(f"\nRESULT: {'AGREE' if ok else 'DISAGREE'} (worst {worst:.3e}, tol {args.tol:g})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
