"""Faster R-CNN R50-FPN speed: detbox against torchvision, side by side in one process.

Inference: one 800x1216 image (no resizing on either side). Training: one step (forward,
backward, SGD update) on two 512x512 images with 3 boxes each. Both models start from the same
random weights (torchvision's converted to detbox names) and use frozen-statistics BN with the
stem and first stage frozen, as the MMDetection config does with ImageNet weights.

    python bench/models.py [--runs 5] [--threads N] [--bf16]

Prints the median time of each and the ratio torchvision / detbox (above 1: detbox is faster).
detbox runs in channels-last layout, as its tools do on CPU (``--no-channels-last`` to compare).
Set MALLOC_* variables or LD_PRELOAD=libjemalloc before running to measure the allocator effect;
``make bench-models`` runs it with the settings we recommend.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
import torchvision
from torchvision.models.detection import FasterRCNN
from torchvision.models.detection.backbone_utils import resnet_fpn_backbone
from torchvision.ops import FrozenBatchNorm2d

from detbox.config import Config
from detbox.models.builder import build_detector
from detbox.models.weight_converters import convert_torchvision_faster_rcnn
from detbox.utils.malloc import tune_malloc

MEAN = torch.tensor([123.675, 116.28, 103.53]).view(3, 1, 1)
STD = torch.tensor([58.395, 57.12, 57.375]).view(3, 1, 1)


def build_pair(config: str, channels_last: bool = True
               ) -> tuple[torch.nn.Module, torch.nn.Module]:
    torch.manual_seed(0)
    backbone = resnet_fpn_backbone(backbone_name="resnet50", weights=None,
                                   norm_layer=FrozenBatchNorm2d, trainable_layers=3)
    tv = FasterRCNN(backbone, num_classes=91, min_size=800, max_size=1333)
    cfg = Config.fromfile(config)
    cfg.model.backbone.init_cfg = None
    cfg.model.roi_head.bbox_head.num_classes = 90
    ours = build_detector(cfg.model)
    ours.load_state_dict(convert_torchvision_faster_rcnn(tv.state_dict()), strict=True)
    return tv, ours.use_channels_last(channels_last)


def median_times(fn_a, fn_b, runs: int) -> tuple[float, float]:
    """Median seconds of ``fn_a`` and ``fn_b``, run alternately so that load drift hits both."""
    fn_a()  # warm-up
    fn_b()
    times_a, times_b = [], []
    for _ in range(runs):
        for fn, times in ((fn_a, times_a), (fn_b, times_b)):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    return statistics.median(times_a), statistics.median(times_b)


def inference(tv, ours, runs: int, bf16: bool) -> tuple[float, float]:
    tv.eval()
    ours.eval()
    img = torch.rand(3, 800, 1216) * 255
    normed = ((img - MEAN) / STD)[None]
    meta = dict(img_shape=(800, 1216, 3), ori_shape=(800, 1216, 3), pad_shape=(800, 1216, 3),
                scale_factor=np.ones(4, dtype=np.float32), flip=False, flip_direction=None)

    def run_tv():
        with torch.inference_mode():
            tv([img / 255])

    def run_ours():
        with torch.inference_mode(), torch.autocast("cpu", torch.bfloat16, enabled=bf16):
            ours(img=[normed], img_metas=[[dict(meta)]], return_loss=False, rescale=True)

    return median_times(run_tv, run_ours, runs)


def training(tv, ours, runs: int, bf16: bool) -> tuple[float, float]:
    tv.train()
    ours.train()
    imgs = torch.rand(2, 3, 512, 512) * 255
    boxes = [torch.tensor([[20.0, 30.0, 200.0, 220.0], [250.0, 60.0, 480.0, 300.0],
                           [100.0, 300.0, 260.0, 500.0]])] * 2
    labels = [torch.tensor([1, 5, 9])] * 2
    tv_opt = torch.optim.SGD([p for p in tv.parameters() if p.requires_grad], lr=1e-4)
    our_opt = torch.optim.SGD([p for p in ours.parameters() if p.requires_grad], lr=1e-4)
    targets = [dict(boxes=b, labels=lab) for b, lab in zip(boxes, labels)]
    metas = [dict(img_shape=(512, 512, 3), ori_shape=(512, 512, 3), pad_shape=(512, 512, 3),
                  scale_factor=np.ones(4, dtype=np.float32), flip=False, flip_direction=None)
             for _ in range(2)]
    normed = (imgs - MEAN) / STD

    def step_tv():
        # torchvision would upscale 512 px images to min_size=800; train both at 512 px
        tv.transform.min_size = (512,)
        losses = tv(list(imgs / 255), targets)
        tv.transform.min_size = (800,)
        tv_opt.zero_grad()
        sum(losses.values()).backward()
        tv_opt.step()

    def step_ours():
        with torch.autocast("cpu", torch.bfloat16, enabled=bf16):
            out = ours.train_step(dict(img=normed, img_metas=[dict(m) for m in metas],
                                       gt_bboxes=boxes, gt_labels=[lab - 1 for lab in labels]))
        our_opt.zero_grad()
        out["loss"].backward()
        our_opt.step()

    return median_times(step_tv, step_ours, runs)


def main() -> None:
    parser = argparse.ArgumentParser(description="detbox vs torchvision Faster R-CNN speed")
    parser.add_argument("--config", default="configs/faster_rcnn/faster_rcnn_r50_fpn_1x_coco.py")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--bf16", action="store_true", help="detbox under bfloat16 autocast")
    parser.add_argument("--no-channels-last", action="store_true",
                        help="detbox in NCHW layout (default: NHWC, as detbox's tools on CPU)")
    parser.add_argument("--no-malloc-tuning", action="store_true",
                        help="leave glibc malloc as it is (detbox's tools tune it; it speeds "
                             "up both models here, since they share the process)")
    args = parser.parse_args()
    if not args.no_malloc_tuning:
        tune_malloc()
    if args.threads:
        torch.set_num_threads(args.threads)
    tv, ours = build_pair(args.config, channels_last=not args.no_channels_last)
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, "
          f"threads {torch.get_num_threads()}, detbox bf16={args.bf16}, "
          f"channels_last={not args.no_channels_last}, "
          f"malloc tuned={not args.no_malloc_tuning}")
    for name, fn in (("inference 1x800x1216", inference), ("train step 2x512x512", training)):
        t_tv, t_ours = fn(tv, ours, args.runs, args.bf16)
        print(f"{name}: torchvision {t_tv * 1000:.0f} ms, detbox {t_ours * 1000:.0f} ms, "
              f"ratio torchvision/detbox {t_tv / t_ours:.2f}")


if __name__ == "__main__":
    main()
