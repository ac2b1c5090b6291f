"""Draw the ground-truth boxes of a config's training samples, after its pipeline.

    python tools/analysis_tools/browse_dataset.py \
        configs/faster_rcnn/faster_rcnn_r50_fpn_1x_coco.py --output-dir work_dirs/browse --not-show
    # keep Normalize/DefaultFormatBundle/Collect (undone for drawing): skip nothing
    python tools/analysis_tools/browse_dataset.py CONFIG --output-dir DIR --not-show --skip-type
"""

import argparse
import sys

from detbox.apis.config import load_config
from detbox.visualization import DEFAULT_SKIP_TYPES, browse_dataset


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Browse a dataset's training samples")
    parser.add_argument("config", help="config file path")
    parser.add_argument("--skip-type", nargs="*", default=list(DEFAULT_SKIP_TYPES),
                        help="transform types to remove from the pipeline (none if empty)")
    parser.add_argument("--output-dir", default=None, help="folder for the drawn images")
    parser.add_argument("--not-show", action="store_true", help="do not show the images")
    parser.add_argument("--show-interval", type=float, default=2, help="seconds per image")
    parser.add_argument("--max-images", type=int, default=None, help="stop after N samples")
    parser.add_argument("--cfg-options", nargs="+", default=[], metavar="KEY=VALUE",
                        help="override settings, e.g. data.train.ann_file=my.json")
    args = parser.parse_args(argv)
    if args.not_show and args.output_dir is None:
        parser.error("with --not-show, give --output-dir (otherwise nothing is produced)")
    try:
        cfg = load_config(args.config, args.cfg_options)
    except (OSError, KeyError, TypeError, ValueError, SyntaxError, ImportError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    written = browse_dataset(cfg.data.train, args.output_dir, args.skip_type,
                             show=not args.not_show, show_interval=args.show_interval,
                             max_images=args.max_images)
    if args.output_dir is not None:
        print(f"wrote {len(written)} images to {args.output_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
