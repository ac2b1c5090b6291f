"""SSD inference speed: detbox against torchvision, side by side in one process.

SSD300-VGG16 (``configs/ssd/ssd300_coco.py``) against torchvision's ``ssd300_vgg16``, and
SSDlite on MobileNetV2 (``configs/ssd/ssdlite_mobilenetv2_scratch_600e_coco.py``, 320 px)
against torchvision's ``ssdlite320_mobilenet_v3_large`` (a different backbone: the nearest
peer torchvision has). Random weights on both sides, one image at the model's input size,
detbox channels-last as its tools run on CPU; runs alternate, medians are printed with the
ratio torchvision / detbox (above 1: detbox is faster).

    python bench/ssd.py [--runs 5] [--threads N]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
import torchvision

from detbox.config import Config
from detbox.models.builder import build_detector
from detbox.utils.malloc import tune_malloc

PAIRS = (("configs/ssd/ssd300_coco.py", 300, "ssd300_vgg16"),
         ("configs/ssd/ssdlite_mobilenetv2_scratch_600e_coco.py", 320,
          "ssdlite320_mobilenet_v3_large"))


def ours(config: str, size: int):
    cfg = Config.fromfile(config)
    cfg.model.backbone.init_cfg = None
    model = build_detector(cfg.model)
    model.init_weights()
    model = model.use_channels_last(True).eval()
    img = torch.rand(1, 3, size, size) * 255 - 128
    meta = dict(img_shape=(size, size, 3), ori_shape=(size, size, 3), pad_shape=(size, size, 3),
                scale_factor=np.ones(4, dtype=np.float32), flip=False, flip_direction=None)

    def run():
        with torch.inference_mode():
            model(img=[img], img_metas=[[dict(meta)]], return_loss=False, rescale=True)
    return run


def theirs(name: str, size: int):
    model = getattr(torchvision.models.detection, name)(weights=None, weights_backbone=None)
    model.eval()
    img = torch.rand(3, size, size)

    def run():
        with torch.inference_mode():
            model([img])
    return run


def median_pair(fn_a, fn_b, runs: int) -> tuple[float, float]:
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
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    tune_malloc()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    for config, size, tv_name in PAIRS:
        t_ours, t_tv = median_pair(ours(config, size), theirs(tv_name, size), args.runs)
        print(f"{config.split('/')[-1]:45s} {t_ours * 1000:8.1f} ms | torchvision {tv_name:30s} "
              f"{t_tv * 1000:8.1f} ms | ratio {t_tv / t_ours:5.2f}")


if __name__ == "__main__":
    main()
