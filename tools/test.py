"""Test (and evaluate) a trained detector (MMDetection 2.28's options).

    python tools/test.py CONFIG work_dirs/shapes/latest.pth --eval bbox
    python tools/test.py CONFIG CKPT --eval bbox --work-dir work_dirs/shapes  # eval_<time>.json
    python tools/test.py CONFIG CKPT --out results.pkl --show-dir vis/ --show-score-thr 0.5
    python tools/test.py CONFIG CKPT --format-only --eval-options jsonfile_prefix=./results
    bash tools/dist_test.sh CONFIG CKPT 2 --eval bbox
"""

import argparse
import os
import sys
import warnings

from detbox.apis.runtime import UsageError, check_test_options, run_tool
from detbox.config import DictAction


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="Test (and evaluate) a detector")
    parser.add_argument("config", help="test config file path")
    parser.add_argument("checkpoint", help="checkpoint file (or URL, downloaded into the torch "
                        "hub cache)")
    parser.add_argument("--work-dir", help="the dir to save the file with the metrics")
    parser.add_argument("--out", help="output result file in pickle format")
    parser.add_argument("--gpu-ids", type=int, nargs="+",
                        help="(deprecated, use --gpu-id) ids of gpus to use")
    parser.add_argument("--gpu-id", type=int, default=0,
                        help="id of the gpu to use (non-distributed testing; ignored "
                        "without CUDA)")
    parser.add_argument("--format-only", action="store_true",
                        help="format the results (COCO json) without evaluating them")
    parser.add_argument("--eval", type=str, nargs="+",
                        help="evaluation metrics, e.g. bbox, proposal (COCO), mAP, recall (VOC)")
    parser.add_argument("--show", action="store_true", help="show results")
    parser.add_argument("--show-dir", help="directory where painted images will be saved")
    parser.add_argument("--show-score-thr", type=float, default=0.3,
                        help="score threshold of the painted boxes (default: 0.3)")
    parser.add_argument("--gpu-collect", action="store_true",
                        help="(accepted for compatibility; results are gathered in memory)")
    parser.add_argument("--tmpdir", help="(accepted for compatibility)")
    parser.add_argument("--cfg-options", nargs="+", action=DictAction,
                        help="override settings of the config, key=value pairs")
    parser.add_argument("--options", nargs="+", action=DictAction,
                        help="(deprecated, use --eval-options)")
    parser.add_argument("--eval-options", nargs="+", action=DictAction,
                        help="key=value arguments of dataset.evaluate(), e.g. classwise=True")
    parser.add_argument("--launcher", choices=["none", "pytorch", "slurm", "mpi"],
                        default="none", help="job launcher")
    parser.add_argument("--local_rank", "--local-rank", type=int, default=0)
    parser.add_argument("--trust-checkpoint", action="store_true",
                        help="load checkpoints  even if they "
                        "hold objects beyond plain weights and numbers; this runs code from "
                        "the file, so only for files you trust")
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback of errors")
    args = parser.parse_args(argv)
    if "LOCAL_RANK" not in os.environ:
        os.environ["LOCAL_RANK"] = str(args.local_rank)
    if args.options and args.eval_options:
        raise UsageError("--options and --eval-options cannot be both specified; --options "
                         "is deprecated in favor of --eval-options")
    if args.options:
        warnings.warn("--options is deprecated in favor of --eval-options", stacklevel=2)
        args.eval_options = args.options
    check_test_options(args.out, args.eval, args.format_only, args.show, args.show_dir)
    for kind, path in (("config", args.config), ("checkpoint", args.checkpoint)):
        # fail before the (slow) imports; URLs and torchvision:// names are fetched later
        if "://" not in path and not os.path.isfile(path):
            raise FileNotFoundError(f"{kind} file not found: {path}")
    return args


def main(argv=None):
    args = parse_args(argv)
    from detbox.apis.testing_tool import run_test

    metrics = run_test(
        args.config, args.checkpoint, work_dir=args.work_dir, out=args.out,
        format_only=args.format_only, eval_metrics=args.eval, show=args.show,
        show_dir=args.show_dir, show_score_thr=args.show_score_thr,
        eval_options=args.eval_options, cfg_options=args.cfg_options, launcher=args.launcher,
        gpu_id=args.gpu_ids[0] if args.gpu_ids else args.gpu_id,
        gpu_collect=args.gpu_collect, tmpdir=args.tmpdir,
        trust_checkpoint=args.trust_checkpoint)
    if metrics is not None:
        print(metrics)


if __name__ == "__main__":
    sys.exit(run_tool(main))
