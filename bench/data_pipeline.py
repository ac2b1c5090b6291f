"""Images per second per worker: detbox's COCO training pipeline vs a torchvision ``v2`` one.

What it measures
----------------
1. Writes ``--images`` synthetic photo-like JPEGs (smooth gradients, shapes, mild noise;
   COCO-like sizes 640x480, 480x640, 640x427, 612x612; quality 90) with a few boxes each.
2. Runs, on the same files in the same process, single-threaded like one DataLoader worker
   (``torch.set_num_threads(1)``, ``cv2.setNumThreads(0)`` as MMDetection's workers):

   * detbox: ``LoadImageFromFile, LoadAnnotations, Resize((1333, 800), keep_ratio),
     RandomFlip(0.5), Normalize, Pad(size_divisor=32), DefaultFormatBundle, Collect``
     (configs/_base_/datasets/coco_detection.py), from the file path to the sample dict;
   * torchvision: read the file, ``decode_jpeg``, ``v2.Resize(800, max_size=1333)``,
     ``v2.RandomHorizontalFlip(0.5)``, ``v2.ToDtype(float32)``, ``v2.Normalize``, pad
     bottom/right to a multiple of 32, boxes as ``tv_tensors.BoundingBoxes``.

   * detbox (mmcv ops): the same detbox pipeline with mmcv 1.7's formulations of the three
     steps detbox speeds up (``np.flip`` views, ``imnormalize`` as copy + float OpenCV
     arithmetic, ``permute().contiguous()``): same outputs, shows what the speed-ups buy.

3. Repeats ``--runs`` times (rotating which goes first) after a warm-up pass and prints
   the median images/s of each, the ratio, and each one's per-step milliseconds.

How to run
----------
    .venv/bin/python bench/data_pipeline.py
    .venv/bin/python bench/data_pipeline.py --images 100 --runs 7
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict

import cv2
import numpy as np
import torch

SIZES = [(640, 480), (480, 640), (640, 427), (612, 612)]  # (w, h)
MEAN = [123.675, 116.28, 103.53]
STD = [58.395, 57.12, 57.375]


def synthetic_photo(rng: np.random.RandomState, w: int, h: int) -> np.ndarray:
    """A smooth, photo-like BGR image (JPEG-compresses like a photo, unlike pure noise)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([xx / w * rng.uniform(80, 255), yy / h * rng.uniform(80, 255),
                    (xx + yy) / (w + h) * rng.uniform(80, 255)], -1)
    for _ in range(12):
        color = rng.uniform(0, 255, 3).tolist()
        center = (int(rng.uniform(0, w)), int(rng.uniform(0, h)))
        axes = (int(rng.uniform(10, w / 4)), int(rng.uniform(10, h / 4)))
        cv2.ellipse(img, center, axes, rng.uniform(0, 180), 0, 360, color, -1)
    img = cv2.GaussianBlur(img, (0, 0), 2.0) + rng.normal(0, 6, img.shape).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


def write_images(folder: str, n: int, seed: int = 0) -> list[dict]:
    rng = np.random.RandomState(seed)
    infos = []
    for i in range(n):
        w, h = SIZES[i % len(SIZES)]
        name = f"{i:06d}.jpg"
        cv2.imwrite(os.path.join(folder, name), synthetic_photo(rng, w, h),
                    [cv2.IMWRITE_JPEG_QUALITY, 90])
        k = rng.randint(1, 12)
        x1, y1 = rng.uniform(0, w * 0.8, k), rng.uniform(0, h * 0.8, k)
        boxes = np.stack([x1, y1, np.minimum(x1 + rng.uniform(4, w / 3, k), w),
                          np.minimum(y1 + rng.uniform(4, h / 3, k), h)], 1).astype(np.float32)
        infos.append(dict(filename=name, width=w, height=h, bboxes=boxes,
                          labels=rng.randint(0, 80, k).astype(np.int64)))
    return infos


class Timed:
    """Wrap a step and add its time to ``totals[name]``."""

    def __init__(self, name: str, fn, totals: dict):
        self.name, self.fn, self.totals = name, fn, totals

    def __call__(self, *args):
        t = time.perf_counter()
        out = self.fn(*args)
        self.totals[self.name] += time.perf_counter() - t
        return out


def _mmcv_flip(img, direction="horizontal"):
    return np.flip(img, axis={"horizontal": 1, "vertical": 0, "diagonal": (0, 1)}[direction])


def _mmcv_normalize(img, mean, std, to_rgb=True):
    img = img.copy().astype(np.float32)
    if to_rgb:
        cv2.cvtColor(img, cv2.COLOR_BGR2RGB, img)
    cv2.subtract(img, np.float64(np.asarray(mean).reshape(1, -1)), img)
    cv2.multiply(img, 1 / np.float64(np.asarray(std).reshape(1, -1)), img)
    return img


def _mmcv_chw(img):
    if not img.flags.c_contiguous:
        return torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))
    return torch.from_numpy(img).permute(2, 0, 1).contiguous()


def build_detbox(folder: str, totals: dict, mmcv_ops: bool = False):
    from detbox.datasets.transforms import Compose, formatting, geometric, photometric

    pipeline = Compose([
        dict(type="LoadImageFromFile"),
        dict(type="LoadAnnotations", with_bbox=True),
        dict(type="Resize", img_scale=(1333, 800), keep_ratio=True),
        dict(type="RandomFlip", flip_ratio=0.5),
        dict(type="Normalize", mean=MEAN, std=STD, to_rgb=True),
        dict(type="Pad", size_divisor=32),
        dict(type="DefaultFormatBundle"),
        dict(type="Collect", keys=["img", "gt_bboxes", "gt_labels"]),
    ])
    pipeline.transforms = [Timed(type(t).__name__, t, totals) for t in pipeline.transforms]
    fast_ops = (geometric.imflip, photometric.imnormalize, formatting.image_to_chw_tensor)
    ops = (_mmcv_flip, _mmcv_normalize, _mmcv_chw) if mmcv_ops else fast_ops

    def run(info: dict) -> dict:
        geometric.imflip, photometric.imnormalize, formatting.image_to_chw_tensor = ops
        results = dict(
            img_info=dict(filename=info["filename"], width=info["width"],
                          height=info["height"]),
            ann_info=dict(bboxes=info["bboxes"], labels=info["labels"],
                          bboxes_ignore=np.zeros((0, 4), np.float32)),
            img_prefix=folder, seg_prefix=None, proposal_file=None, bbox_fields=[],
            mask_fields=[], seg_fields=[])
        return pipeline(results)

    return run


def build_torchvision(folder: str, totals: dict):
    from torchvision import tv_tensors
    from torchvision.io import decode_jpeg
    from torchvision.transforms import v2
    from torchvision.transforms.v2 import functional as F

    def pad32(img, boxes, labels):
        h, w = img.shape[-2:]
        ph, pw = (32 - h % 32) % 32, (32 - w % 32) % 32
        return F.pad(img, [0, 0, pw, ph]), boxes, labels

    steps = [
        ("Resize", v2.Resize(800, max_size=1333)),
        ("RandomHorizontalFlip", v2.RandomHorizontalFlip(0.5)),
        ("ToDtype", v2.ToDtype(torch.float32, scale=False)),
        ("Normalize", v2.Normalize(MEAN, STD)),
    ]
    steps = [(name, Timed(name, step, totals)) for name, step in steps]
    pad = Timed("Pad", pad32, totals)
    read = Timed("ReadFile", lambda p: torch.frombuffer(bytearray(open(p, "rb").read()),
                                                        dtype=torch.uint8), totals)
    decode = Timed("decode_jpeg", decode_jpeg, totals)

    def run(info: dict) -> dict:
        img = decode(read(os.path.join(folder, info["filename"])))
        boxes = tv_tensors.BoundingBoxes(torch.from_numpy(info["bboxes"]), format="XYXY",
                                         canvas_size=tuple(img.shape[-2:]))
        labels = torch.from_numpy(info["labels"])
        for _, step in steps:
            img, boxes, labels = step(img, boxes, labels)
        img, boxes, labels = pad(img, boxes, labels)
        return dict(img=img.contiguous(), gt_bboxes=boxes, gt_labels=labels)

    return run


def time_pass(run, infos: list[dict]) -> float:
    t = time.perf_counter()
    for info in infos:
        run(info)
    return len(infos) / (time.perf_counter() - t)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=60, help="number of JPEGs")
    ap.add_argument("--runs", type=int, default=5, help="timed passes per pipeline")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    torch.set_num_threads(1)
    cv2.setNumThreads(0)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    with tempfile.TemporaryDirectory() as folder:
        infos = write_images(folder, args.images, args.seed)
        totals = {"detbox": defaultdict(float), "torchvision": defaultdict(float)}
        totals["detbox (mmcv ops)"] = defaultdict(float)
        runs = {"detbox": build_detbox(folder, totals["detbox"]),
                "torchvision": build_torchvision(folder, totals["torchvision"]),
                "detbox (mmcv ops)": build_detbox(folder, totals["detbox (mmcv ops)"], True)}
        torch.manual_seed(0)
        np.random.seed(0)
        ours = runs["detbox"](infos[0])
        np.random.seed(0)
        same = torch.equal(ours["img"], runs["detbox (mmcv ops)"](infos[0])["img"])
        theirs = runs["torchvision"](infos[0])
        print(f"sample image: detbox {tuple(ours['img'].shape)} {ours['img'].dtype} (equal with "
              f"mmcv ops: {same}), torchvision {tuple(theirs['img'].shape)} "
              f"{theirs['img'].dtype}")
        for run in runs.values():  # warm-up: page cache, lazy initialisation
            time_pass(run, infos)
        for t in totals.values():
            t.clear()
        rates = {name: [] for name in runs}
        for i in range(args.runs):
            order = list(runs)[i % len(runs):] + list(runs)[:i % len(runs)]
            for name in order:
                rates[name].append(time_pass(runs[name], infos))
        n = args.images * args.runs
        print(f"{args.images} JPEGs, {args.runs} runs, 1 thread (one DataLoader worker), "
              f"torch {torch.__version__}, OpenCV {cv2.__version__}, "
              f"Python {sys.version.split()[0]}")
        for name in runs:
            steps = ", ".join(f"{k} {v / n * 1e3:.2f}" for k, v in totals[name].items())
            print(f"  {name:18s} {statistics.median(rates[name]):7.1f} img/s  "
                  f"(runs: {', '.join(f'{r:.1f}' for r in rates[name])})")
            print(f"      ms/img: {steps}")
        ratio = statistics.median(rates["detbox"]) / statistics.median(rates["torchvision"])
        print(f"  detbox / torchvision = {ratio:.2f}x")
        ratio = statistics.median(rates["detbox"]) / statistics.median(rates["detbox (mmcv ops)"])
        print(f"  detbox / detbox with mmcv ops = {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
