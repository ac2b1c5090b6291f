"""Detect objects in an image, a folder of images or a video, and draw the results.

    python demo/image_demo.py demo.jpg CONFIG CHECKPOINT --out-file result.jpg
    python demo/image_demo.py photos/ CONFIG CHECKPOINT --out-dir outputs/
    python demo/image_demo.py clip.mp4 CONFIG CHECKPOINT --out-file clip_result.mp4

Drawings of a folder go to ``--out-dir`` under the images' names; an image or video without
``--out-file`` goes to ``--out-dir`` too.
"""

import argparse
import logging
import sys

from detbox.apis.runtime import run_tool
from detbox.visualization import COLORS


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Run a detector on images or a video")
    parser.add_argument("img", help="image file, folder of images, or video file")
    parser.add_argument("config", help="config file")
    parser.add_argument("checkpoint", help="checkpoint file")
    parser.add_argument("--out-file", default=None, help="output image or video")
    parser.add_argument("--out-dir", default="outputs",
                        help="output folder (for a folder of images, and the default)")
    parser.add_argument("--device", default="cpu", help="device, e.g. cpu or cuda:0")
    parser.add_argument("--score-thr", type=float, default=0.3, help="box score threshold")
    parser.add_argument("--batch-size", type=int, default=4, help="images or frames per batch")
    parser.add_argument("--palette", default="random", choices=["random", *COLORS],
                        help="box colours: one per class ('random') or one for all")
    parser.add_argument("--cfg-options", nargs="+", default=[], metavar="KEY=VALUE",
                        help="override config settings, e.g. model.test_cfg.rcnn.score_thr=0.5")
    parser.add_argument("--trust-checkpoint", action="store_true",
                        help="load CHECKPOINT even if it holds objects beyond plain weights "
                        "(runs code from the file: only for files you trust)")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of errors")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    return run_tool(lambda: _run(args), debug=args.debug or None)


def _run(args: argparse.Namespace) -> int:
    from detbox.apis import init_detector, load_config
    from detbox.apis.demo import run_demo

    cfg = load_config(args.config, args.cfg_options)
    model = init_detector(cfg, args.checkpoint, device=args.device,
                          trust_checkpoint=args.trust_checkpoint)
    written = run_demo(model, args.img, out_file=args.out_file, out_dir=args.out_dir,
                       score_thr=args.score_thr, batch_size=args.batch_size,
                       palette=args.palette)
    print(written[0] if len(written) == 1 else f"{len(written)} images in {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
