"""``make demo``: generate the shapes data set, train a small detector, test it, draw and plot.

    python tools/misc/run_demo.py [--work-dir work_dirs/demo] [--data-dir data/shapes]

Each step runs one of the repository's own command-line tools in a subprocess, as a user
would type it (the commands are echoed):

1. ``tools/misc/make_shapes.py`` writes the synthetic shapes set to ``--data-dir`` (skipped when
   its annotation files already exist);
2. ``tools/train.py`` trains ``configs/demo/atss_mobilenetv2_fpn_shapes.py`` (evaluating
   ``bbox_mAP`` after every epoch);
3. ``tools/test.py --eval bbox --show-dir`` evaluates the final checkpoint on the validation
   split (with per-class AP) and draws its predictions to ``WORK_DIR/vis/``;
4. ``tools/analysis_tools/analyze_logs.py plot_curve`` plots ``loss.png`` and ``map.png``.

It ends with a summary: where everything is, the final metrics and the wall time.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import os.path as osp
import shlex
import subprocess
import sys
import time

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_CONFIG = "configs/demo/atss_mobilenetv2_fpn_shapes.py"
DEFAULT_DATA = "data/shapes"


def run(cmd: list[str], env: dict | None = None) -> None:
    """Echo and run one command from the repository root; stop the demo if it fails."""
    print("\n$ " + " ".join(shlex.quote(c) for c in cmd), flush=True)
    code = subprocess.call(cmd, cwd=REPO, env=env)
    if code != 0:
        sys.exit(f"run_demo: the command above failed (exit code {code})")


def newest(pattern: str) -> str:
    """The most recently modified file matching ``pattern`` (error if there is none)."""
    files = glob.glob(pattern)
    if not files:
        sys.exit(f"run_demo: expected a file matching {pattern}, found none")
    return max(files, key=osp.getmtime)


def data_options(data_dir: str) -> list[str]:
    """``--cfg-options`` pointing the demo config's train/val/test sets at ``data_dir``."""
    root = data_dir.rstrip("/") + "/"
    opts = []
    for split, ann in (("train", "train"), ("val", "val"), ("test", "val")):
        opts += [f"data.{split}.ann_file={root}annotations/{ann}.json",
                 f"data.{split}.img_prefix={root}images/"]
    return opts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default=DEFAULT_CONFIG, help="detector config")
    parser.add_argument("--data-dir", default=DEFAULT_DATA, help="shapes data set folder")
    parser.add_argument("--work-dir", default="work_dirs/demo", help="outputs folder")
    parser.add_argument("--num-train", type=int, default=400, help="training images to make")
    parser.add_argument("--num-val", type=int, default=100, help="validation images to make")
    parser.add_argument("--seed", type=int, default=0, help="data and training seed")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads for training and testing (OMP_NUM_THREADS); the "
                             "data loader's worker process uses the other core")
    parser.add_argument("--cfg-options", nargs="+", default=[],
                        help="extra KEY=VALUE overrides for tools/train.py and tools/test.py")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    py = sys.executable
    work = args.work_dir
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))

    anns = [osp.join(REPO, args.data_dir, "annotations", f"{s}.json") for s in ("train", "val")]
    if all(osp.isfile(a) for a in anns):
        print(f"[1/4] shapes data set: found {args.data_dir}/ (delete it to regenerate)")
    else:
        print(f"[1/4] generating the shapes data set in {args.data_dir}/")
        run([py, "tools/misc/make_shapes.py", "--out-dir", args.data_dir,
             "--num-train", str(args.num_train), "--num-val", str(args.num_val),
             "--seed", str(args.seed)])
    options = (data_options(args.data_dir) if osp.normpath(args.data_dir) != DEFAULT_DATA
               else []) + list(args.cfg_options)
    cfg_opts = ["--cfg-options", *options] if options else []

    print(f"[2/4] training {args.config} into {work}/")
    t_train = time.perf_counter()
    run([py, "tools/train.py", args.config, "--work-dir", work, "--seed", str(args.seed),
         *cfg_opts], env)
    t_train = time.perf_counter() - t_train
    log_json = newest(osp.join(REPO, work, "*.log.json"))

    print("[3/4] testing the final checkpoint and drawing its predictions")
    vis = osp.join(work, "vis")
    run([py, "tools/test.py", args.config, osp.join(work, "latest.pth"), "--eval", "bbox",
         "--eval-options", "classwise=True", "--show-dir", vis, "--work-dir", work,
         *cfg_opts], env)
    metrics = json.load(open(newest(osp.join(REPO, work, "eval_*.json")),
                             encoding="utf-8"))["metric"]

    print("[4/4] plotting the training curves")
    loss_png, map_png = osp.join(work, "loss.png"), osp.join(work, "map.png")
    tool = "tools/analysis_tools/analyze_logs.py"
    run([py, tool, "plot_curve", log_json, "--keys", "loss", "--legend", "loss",
         "--title", "training loss", "--out", loss_png])
    run([py, tool, "plot_curve", log_json, "--keys", "bbox_mAP_50", "bbox_mAP",
         "--legend", "bbox_mAP_50", "bbox_mAP (IoU 0.5:0.95)", "--title", "validation mAP",
         "--out", map_png])

    per_class = {k[len("bbox_AP_"):]: v for k, v in metrics.items() if k.startswith("bbox_AP_")}
    n_vis = len(glob.glob(osp.join(REPO, vis, "*")))
    lines = [
        "",
        "=" * 72,
        f"demo done in {time.perf_counter() - start:.0f} s (training {t_train:.0f} s)",
        f"  data set      {args.data_dir}/ (images/, annotations/train.json, val.json)",
        f"  config        {args.config}",
        f"  checkpoint    {work}/latest.pth",
        f"  training log  {osp.relpath(log_json, REPO)}",
        f"  pictures      {vis}/ ({n_vis} images with predicted boxes, labels, scores)",
        f"  curves        {loss_png}, {map_png}",
        f"  val metrics   bbox_mAP_50 {metrics['bbox_mAP_50']:.3f}  "
        f"bbox_mAP (IoU 0.5:0.95) {metrics['bbox_mAP']:.3f}",
        "  per-class AP  " + ", ".join(f"{k} {v:.3f}" for k, v in per_class.items())
        + "  (IoU 0.5:0.95)",
        "try it on an image:",
        f"  {osp.relpath(py, REPO) if py.startswith(REPO) else py} demo/image_demo.py "
        f"IMAGE {args.config} {work}/latest.pth --out-file out.jpg",
        "=" * 72,
    ]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
