"""Mask R-CNN R50-FPN inference speed: detbox against torchvision, side by side in one process.

Both models get random weights (their own initialisation; the layouts differ, so nothing is
converted) and the same 800x1216 image (no resizing on either side). The score threshold is
0 on both, so each keeps its 100 best detections and pastes 100 masks into the image
(what a trained model does on a busy image); a random model would otherwise give none.

    python bench/mask_rcnn.py [--runs 3] [--threads N]

Prints the median time of each and the ratio torchvision / detbox (above 1: detbox is faster).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from torchvision.models.detection import maskrcnn_resnet50_fpn

from detbox.config import Config
from detbox.models.builder import build_detector
from detbox.utils.malloc import tune_malloc

MEAN = torch.tensor([123.675, 116.28, 103.53]).view(3, 1, 1)
STD = torch.tensor([58.395, 57.12, 57.375]).view(3, 1, 1)
CONFIG = "configs/mask_rcnn/mask_rcnn_r50_fpn_1x_coco.py"


def build_pair(channels_last: bool = True) -> tuple[torch.nn.Module, torch.nn.Module]:
    torch.manual_seed(0)
    tv = maskrcnn_resnet50_fpn(weights=None, weights_backbone=None, num_classes=91,
                               min_size=800, max_size=1333, box_score_thresh=0.0,
                               box_detections_per_img=100)
    cfg = Config.fromfile(CONFIG)
    cfg.model.backbone.init_cfg = None
    cfg.model.test_cfg.rcnn.score_thr = 0.0
    ours = build_detector(cfg.model)
    ours.init_weights()
    return tv.eval(), ours.use_channels_last(channels_last).eval()


def median_times(fn_a, fn_b, runs: int) -> tuple[float, float]:
    """Median seconds of ``fn_a`` and ``fn_b``, run alternately so that load drift hits both."""
    fn_a()
    fn_b()
    times_a, times_b = [], []
    for _ in range(runs):
        for fn, times in ((fn_a, times_a), (fn_b, times_b)):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    return statistics.median(times_a), statistics.median(times_b)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--no-channels-last", action="store_true")
    args = parser.parse_args()
    tune_malloc()
    if args.threads:
        torch.set_num_threads(args.threads)
    tv, ours = build_pair(not args.no_channels_last)
    img = torch.rand(3, 800, 1216) * 255
    normed = ((img - MEAN) / STD)[None]
    meta = dict(img_shape=(800, 1216, 3), ori_shape=(800, 1216, 3), pad_shape=(800, 1216, 3),
                scale_factor=np.ones(4, dtype=np.float32), flip=False, flip_direction=None)
    counts = {}

    def run_tv():
        with torch.inference_mode():
            counts["torchvision"] = len(tv([img / 255])[0]["masks"])

    def run_ours():
        with torch.inference_mode():
            (_, segms), = ours(img=[normed], img_metas=[[dict(meta)]], return_loss=False,
                               rescale=True)
            counts["detbox"] = sum(len(s) for s in segms)

    t_tv, t_ours = median_times(run_tv, run_ours, args.runs)
    print(f"Mask R-CNN R50-FPN inference, 800x1216, {torch.get_num_threads()} threads, "
          f"median of {args.runs}")
    print(f"  torchvision: {t_tv:.3f} s ({counts['torchvision']} masks)")
    print(f"  detbox:      {t_ours:.3f} s ({counts['detbox']} masks)")
    print(f"  ratio torchvision / detbox: {t_tv / t_ours:.2f}")


if __name__ == "__main__":
    main()
