"""Print a config after ``_base_`` merging and ``--cfg-options``; validate it first.

    python tools/misc/print_config.py configs/cascade_rcnn/cascade_rcnn_r50_fpn_1x_coco.py \
        --cfg-options model.backbone.depth=101
"""

import argparse
import sys

from detbox.apis.config import load_config


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Print the whole merged config")
    parser.add_argument("config", help="config file path")
    parser.add_argument("--cfg-options", nargs="+", default=[], metavar="KEY=VALUE",
                        help="override settings, e.g. model.backbone.depth=101")
    parser.add_argument("--no-validate", action="store_true", help="skip config validation")
    args = parser.parse_args(argv)
    try:
        cfg = load_config(args.config, args.cfg_options, validate=not args.no_validate)
    except (OSError, KeyError, TypeError, ValueError, SyntaxError, ImportError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"Config:\n{cfg.pretty_text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
