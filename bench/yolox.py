"""YOLOX-s inference speed next to the nearest one-stage peer torchvision has.

torchvision has no YOLOX; its compact one-stage detectors are SSD300-VGG16 and
SSDlite320-MobileNetV3. This runs our YOLOX-s (``configs/yolox/yolox_s_8x8_300e_coco.py``,
random weights, 640 x 640 input, channels-last as our tools use on CPU) and torchvision's
``ssdlite320_mobilenet_v3_large`` and ``ssd300_vgg16`` (random weights, their own 320 / 300 px
transforms), alternating runs, and prints the medians and the ratios.

    python bench/yolox.py [--runs 5] [--threads N]
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

REPO_CONFIG = "configs/yolox/yolox_s_8x8_300e_coco.py"


def yolox_runner(size: int = 640):
    cfg = Config.fromfile(REPO_CONFIG)
    model = build_detector(cfg.model)
    model.init_weights()
    model = model.use_channels_last(True).eval()
    img = torch.rand(1, 3, size, size) * 255
    meta = dict(img_shape=(size, size, 3), ori_shape=(size, size, 3), pad_shape=(size, size, 3),
                scale_factor=np.ones(4, dtype=np.float32), flip=False, flip_direction=None)

    def run():
        with torch.inference_mode():
            model(img=[img], img_metas=[[dict(meta)]], return_loss=False, rescale=True)
    return run


def torchvision_runner(name: str, size: int = 640):
    model = getattr(torchvision.models.detection, name)(weights=None, weights_backbone=None)
    model.eval()
    img = torch.rand(3, size, size)

    def run():
        with torch.inference_mode():
            model([img])
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    tune_malloc()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    runners = {"detbox YOLOX-s 640": yolox_runner(),
               "torchvision ssdlite320_mobilenet_v3_large": torchvision_runner(
                   "ssdlite320_mobilenet_v3_large"),
               "torchvision ssd300_vgg16": torchvision_runner("ssd300_vgg16")}
    for run in runners.values():
        run()  # warm-up
    times: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(args.runs):
        for name, run in runners.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(t) for name, t in times.items()}
    ours = medians["detbox YOLOX-s 640"]
    for name, value in medians.items():
        print(f"{name:45s} {value * 1000:8.1f} ms   ratio to YOLOX-s {value / ours:5.2f}")


if __name__ == "__main__":
    main()
