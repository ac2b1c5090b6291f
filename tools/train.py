"""Train a detector (MMDetection 2.28's options).

    python tools/train.py configs/_me_/faster_rcnn_shapes.py --work-dir work_dirs/shapes
    python tools/train.py CONFIG --resume-from work_dirs/shapes/latest.pth \
        --cfg-options runner.max_epochs=24
    python tools/train.py CONFIG --auto-resume      # continue from the newest checkpoint
    bash tools/dist_train.sh CONFIG 2               # two processes (torchrun)
"""

import argparse
import os
import sys
import warnings

from detbox.apis.runtime import UsageError, run_tool
from detbox.config import DictAction


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="Train a detector")
    parser.add_argument("config", help="train config file path")
    parser.add_argument("--work-dir", help="the dir to save logs and models "
                        "(default: ./work_dirs/<config name>)")
    parser.add_argument("--resume-from", help="the checkpoint file to resume from")
    parser.add_argument("--auto-resume", action="store_true",
                        help="resume from the newest checkpoint in the work dir, if any")
    parser.add_argument("--no-validate", action="store_true",
                        help="do not evaluate checkpoints during training")
    group_gpus = parser.add_mutually_exclusive_group()
    group_gpus.add_argument("--gpus", type=int, help="(deprecated, use --gpu-id) number of "
                            "gpus to use (non-distributed training uses one)")
    group_gpus.add_argument("--gpu-ids", type=int, nargs="+",
                            help="(deprecated, use --gpu-id) ids of gpus to use")
    group_gpus.add_argument("--gpu-id", type=int, default=0,
                            help="id of the gpu to use (non-distributed training; ignored "
                            "without CUDA)")
    parser.add_argument("--seed", type=int, default=None, help="random seed")
    parser.add_argument("--diff-seed", action="store_true",
                        help="use a different seed on each rank (seed + rank)")
    parser.add_argument("--deterministic", action="store_true",
                        help="use deterministic algorithms (slower)")
    parser.add_argument("--options", nargs="+", action=DictAction,
                        help="(deprecated, use --cfg-options)")
    parser.add_argument("--cfg-options", nargs="+", action=DictAction,
                        help="override settings of the config, key=value pairs such as "
                        "runner.max_epochs=4 or data.samples_per_gpu=4; lists as "
                        "key=\"[a,b]\" or key=a,b")
    parser.add_argument("--launcher", choices=["none", "pytorch", "slurm", "mpi"],
                        default="none", help="job launcher")
    parser.add_argument("--local_rank", "--local-rank", type=int, default=0)
    parser.add_argument("--auto-scale-lr", action="store_true",
                        help="scale the learning rate by the total batch size "
                        "(auto_scale_lr.base_batch_size in the config)")
    parser.add_argument("--trust-checkpoint", action="store_true",
                        help="load checkpoints (load_from, resume, Pretrained) even if they "
                        "hold objects beyond plain weights and numbers; this runs code from "
                        "the file, so only for files you trust")
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback of errors")
    args = parser.parse_args(argv)
    if "LOCAL_RANK" not in os.environ:
        os.environ["LOCAL_RANK"] = str(args.local_rank)
    if args.options and args.cfg_options:
        raise UsageError("--options and --cfg-options cannot be both specified; --options "
                         "is deprecated in favor of --cfg-options")
    if args.options:
        warnings.warn("--options is deprecated in favor of --cfg-options", stacklevel=2)
        args.cfg_options = args.options
    for kind, path in (("config", args.config), ("checkpoint", args.resume_from)):
        if path is not None and not os.path.isfile(path):  # fail before the (slow) imports
            raise FileNotFoundError(f"{kind} file not found: {path}")
    return args


def main(argv=None):
    args = parse_args(argv)
    from detbox.apis.train_tool import run_train

    gpu_ids = args.gpu_ids if args.gpu_ids is not None else [args.gpu_id]
    run_train(
        args.config, work_dir=args.work_dir, resume_from=args.resume_from,
        auto_resume=args.auto_resume, validate=not args.no_validate, gpu_ids=gpu_ids,
        seed=args.seed, diff_seed=args.diff_seed, deterministic=args.deterministic,
        cfg_options=args.cfg_options, launcher=args.launcher,
        auto_scale_lr=args.auto_scale_lr, trust_checkpoint=args.trust_checkpoint)


if __name__ == "__main__":
    sys.exit(run_tool(main))
