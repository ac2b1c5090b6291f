"""Accuracy on real data: train on BCCD for a fixed wall-clock budget, then test.

    python bench/accuracy_bccd.py --minutes 15 [--bccd-root ../shared/data/bccd]
                                  [--work-dir work_dirs/bench_bccd]

Trains ``configs/bccd/atss_mobilenetv2_fpn_bccd.py`` (ImageNet-pretrained MobileNetV2) on the
trainval split and reports ``bbox_mAP_50``, ``bbox_mAP`` and per-class AP (at IoU 0.5 and over
0.5:0.95) on the test split, as a table and as ``WORK_DIR/accuracy_bccd.json``.

The budget covers training and the per-epoch evaluation: :class:`TimeBudgetHook` times the
epochs, sets the number of epochs that fit the budget after each one and stops when the next
would not fit. The learning rate follows a cosine curve over that number of iterations, so
the schedule ends where the budget does. The VOC annotations are converted to COCO json
(``detbox.datasets.converters.voc_to_coco``) into the work dir; the BCCD folder is only read.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import os.path as osp
import pickle
import sys
import time
from typing import Any

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

from detbox.engine.hooks.hook import Hook  # noqa: E402
from detbox.registry import HOOKS  # noqa: E402

CONFIG = osp.join(REPO, "configs/bccd/atss_mobilenetv2_fpn_bccd.py")
CLASSES = ("RBC", "WBC", "Platelets")


@HOOKS.register_module(force=True)
class TimeBudgetHook(Hook):
    """Fit an epoch-based run into ``budget_s`` seconds of wall time (from ``before_run``).

    After each epoch (evaluation included: register it with ``priority='LOWEST'`` so that it
    runs after the evaluation hook), the mean epoch time so far
    gives the number of epochs that fit; ``runner._max_epochs`` is set to it (at least the
    epochs already done), so a ``CosineAnnealing`` schedule by iteration ends with the budget.

    Args:
        budget_s: wall-clock seconds for the whole run.
    """

    def __init__(self, budget_s: float) -> None:
        if budget_s <= 0:
            raise ValueError(f"TimeBudgetHook: budget_s must be > 0, got {budget_s}")
        self.budget_s = float(budget_s)
        self.start = 0.0

    def before_run(self, runner: Any) -> None:
        self.start = time.perf_counter()

    def after_train_epoch(self, runner: Any) -> None:
        done = runner.epoch + 1
        elapsed = time.perf_counter() - self.start
        fit = max(done, math.floor(self.budget_s / (elapsed / done)))
        runner._max_epochs = fit
        runner.logger.info("time budget: %.0f of %.0f s used after %d epochs; %d epochs fit",
                           elapsed, self.budget_s, done, fit)


def convert_bccd(bccd_root: str, out_dir: str) -> dict[str, str]:
    """COCO json files for BCCD's trainval and test splits, written to ``out_dir``."""
    from detbox.datasets.converters import save_json, voc_to_coco

    voc = osp.join(bccd_root, "BCCD")
    if not osp.isdir(osp.join(voc, "Annotations")):
        raise FileNotFoundError(f"BCCD not found: expected {voc}/Annotations (VOC layout)")
    os.makedirs(out_dir, exist_ok=True)
    files = {}
    for split in ("trainval", "test"):
        files[split] = osp.join(out_dir, f"{split}.json")
        save_json(voc_to_coco(voc, split=split, classes=list(CLASSES)), files[split])
    return files


def bccd_options(bccd_root: str, anns: dict[str, str]) -> dict:
    """``cfg_options`` pointing the BCCD config at ``bccd_root`` and the converted json."""
    prefix = osp.join(bccd_root, "BCCD") + "/"
    opts = {"data.train.ann_file": anns["trainval"], "data.train.img_prefix": prefix}
    for split in ("val", "test"):
        opts[f"data.{split}.ann_file"] = anns["test"]
        opts[f"data.{split}.img_prefix"] = prefix
    return opts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="BCCD accuracy for a wall-clock budget")
    parser.add_argument("--minutes", type=float, default=15.0, help="training budget")
    parser.add_argument("--bccd-root", default=osp.join(REPO, "..", "shared", "data", "bccd"),
                        help="folder holding BCCD/{Annotations,ImageSets,JPEGImages}")
    parser.add_argument("--work-dir", default=osp.join(REPO, "work_dirs", "bench_bccd"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (the data loader's worker uses another core)")
    args = parser.parse_args(argv)
    import torch

    from detbox.apis import load_config
    from detbox.apis.testing_tool import run_test
    from detbox.apis.train_tool import run_train
    from detbox.datasets import build_dataset

    torch.set_num_threads(args.threads)
    anns = convert_bccd(args.bccd_root, osp.join(args.work_dir, "annotations"))
    opts = bccd_options(args.bccd_root, anns)
    budget = args.minutes * 60.0
    train_opts = dict(
        opts,
        **{"runner.max_epochs": 1000,
           "lr_config": dict(_delete_=True, policy="CosineAnnealing", by_epoch=False,
                             min_lr_ratio=0.01, warmup="linear", warmup_iters=100,
                             warmup_ratio=0.01),
           "custom_hooks": [dict(type="NumClassCheckHook"),
                            dict(type="TimeBudgetHook", budget_s=budget, priority="LOWEST")]})
    start = time.perf_counter()
    runner = run_train(CONFIG, work_dir=args.work_dir, seed=args.seed, cfg_options=train_opts)
    train_s = time.perf_counter() - start
    epochs = runner.epoch

    ckpt = osp.join(args.work_dir, "latest.pth")
    out = osp.join(args.work_dir, "test_results.pkl")
    metrics = run_test(CONFIG, ckpt, out=out, eval_metrics=["bbox"],
                       eval_options=dict(classwise=True), cfg_options=opts)
    with open(out, "rb") as f:
        results = pickle.load(f)
    dataset = build_dataset(load_config(CONFIG, opts).data.test)
    at50 = dataset.evaluate(results, metric="bbox", classwise=True, iou_thrs=[0.5],
                            logger="silent")

    report = {
        "minutes": args.minutes, "train_seconds": round(train_s, 1), "epochs": epochs,
        "bbox_mAP_50": metrics["bbox_mAP_50"], "bbox_mAP": metrics["bbox_mAP"],
        "AP50_per_class": {c: at50[f"bbox_AP_{c}"] for c in CLASSES},
        "AP_per_class": {c: metrics[f"bbox_AP_{c}"] for c in CLASSES},
    }
    with open(osp.join(args.work_dir, "accuracy_bccd.json"), "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2)
    print(f"\nBCCD test split, {epochs} epochs in {train_s / 60:.1f} min "
          f"(budget {args.minutes:g} min)")
    print(f"{'':10s} {'AP50':>6s} {'AP':>6s}")
    for c in CLASSES:
        print(f"{c:10s} {report['AP50_per_class'][c]:6.3f} {report['AP_per_class'][c]:6.3f}")
    print(f"{'all':10s} {report['bbox_mAP_50']:6.3f} {report['bbox_mAP']:6.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
