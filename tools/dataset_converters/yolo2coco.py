"""Convert YOLO txt labels (``class cx cy w h``, normalised) to a COCO json file.

    python tools/dataset_converters/yolo2coco.py data/mine/images/train \
        --classes data/mine/classes.txt --out data/mine/train.json [--labels data/mine/labels/train]

``file_name`` entries are relative to the image folder: use it as ``img_prefix``.
"""

import argparse
import logging
import sys

from detbox.datasets.converters import save_json, yolo_to_coco


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="YOLO txt labels -> COCO json")
    parser.add_argument("img_dir", help="folder of the images (searched recursively)")
    parser.add_argument("--classes", required=True,
                        help="text file with the class names, one a line, in YOLO index order")
    parser.add_argument("--labels", help="folder of the .txt labels (default: img_dir with "
                                         "'images' replaced by 'labels', else img_dir)")
    parser.add_argument("--out", required=True, help="output json file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    try:
        coco = yolo_to_coco(args.img_dir, args.classes, label_dir=args.labels)
    except (OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    save_json(coco, args.out)
    print(f"wrote {args.out}: {len(coco['images'])} images, {len(coco['annotations'])} boxes, "
          f"{len(coco['categories'])} categories")
    return 0


if __name__ == "__main__":
    sys.exit(main())
