"""DETR-R50 inference speed: detbox against Hugging Face ``transformers``, side by side.

Both models are DETR with a ResNet-50 backbone, 6 encoder and 6 decoder layers, 256 channels,
100 queries, built with random weights (no download: ``transformers``' own ResNet backbone
from a ``ResNetConfig``, no timm, no pretrained weights). One image (800x1216 by default, no
resizing on either side), runs alternated so that load drift hits both.

    python bench/detr.py [--runs 3] [--size 800 1216] [--threads N]

Prints the median time of each and the ratio transformers / detbox (above 1: detbox is
faster). detbox runs in channels-last layout with its malloc tuning, as its tools do on CPU.
Needs ``pip install transformers`` (5.x tested).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
import torch

from detbox.config import Config
from detbox.models.builder import build_detector
from detbox.utils.malloc import tune_malloc

CONFIG = "configs/detr/detr_r50_8x2_150e_coco.py"


def build_ours(channels_last: bool) -> torch.nn.Module:
    cfg = Config.fromfile(CONFIG)
    cfg.model.backbone.init_cfg = None
    torch.manual_seed(0)
    model = build_detector(cfg.model)
    model.init_weights()
    return model.use_channels_last(channels_last).eval()


def build_theirs() -> torch.nn.Module:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import DetrConfig, DetrForObjectDetection, ResNetConfig

    backbone = ResNetConfig(depths=[3, 4, 6, 3], layer_type="bottleneck",
                            hidden_sizes=[256, 512, 1024, 2048], out_features=["stage4"])
    cfg = DetrConfig(backbone_config=backbone, num_labels=80, num_queries=100)
    torch.manual_seed(0)
    return DetrForObjectDetection(cfg).eval()


def median_times(fn_a, fn_b, runs: int) -> tuple[float, float]:
    """Median seconds of ``fn_a`` and ``fn_b``, run alternately (after one warm-up each)."""
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
    parser = argparse.ArgumentParser(description="detbox vs transformers DETR-R50 inference")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--size", type=int, nargs=2, default=(800, 1216), metavar=("H", "W"))
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--no-channels-last", action="store_true")
    args = parser.parse_args()
    tune_malloc()
    if args.threads:
        torch.set_num_threads(args.threads)
    import transformers

    ours, theirs = build_ours(not args.no_channels_last), build_theirs()
    n_ours = sum(p.numel() for p in ours.parameters())
    n_theirs = sum(p.numel() for p in theirs.parameters())
    h, w = args.size
    img = torch.randn(1, 3, h, w)
    meta = dict(img_shape=(h, w, 3), ori_shape=(h, w, 3), pad_shape=(h, w, 3),
                scale_factor=np.ones(4, dtype=np.float32), flip=False, flip_direction=None)
    mask = torch.ones(1, h, w, dtype=torch.long)

    def run_theirs():
        with torch.inference_mode():
            theirs(pixel_values=img, pixel_mask=mask)

    def run_ours():
        with torch.inference_mode():
            ours(img=[img], img_metas=[[dict(meta)]], return_loss=False, rescale=True)

    print(f"torch {torch.__version__}, transformers {transformers.__version__}, threads "
          f"{torch.get_num_threads()}, parameters detbox {n_ours / 1e6:.2f}M, transformers "
          f"{n_theirs / 1e6:.2f}M, channels_last={not args.no_channels_last}")
    t_theirs, t_ours = median_times(run_theirs, run_ours, args.runs)
    print(f"inference 1x{h}x{w}: transformers {t_theirs * 1000:.0f} ms, detbox "
          f"{t_ours * 1000:.0f} ms, ratio transformers/detbox {t_theirs / t_ours:.2f}")


if __name__ == "__main__":
    main()
