"""Convert Pascal VOC XML annotations to a COCO json file.

    python tools/dataset_converters/voc2coco.py data/VOCdevkit/VOC2007 --split trainval \
        --out data/VOCdevkit/VOC2007/trainval.json [--classes classes.txt]

``file_name`` entries are ``JPEGImages/<id>.jpg``: use the VOC folder as ``img_prefix``.
"""

import argparse
import logging
import sys

from detbox.datasets.converters import save_json, voc_to_coco


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Pascal VOC XML -> COCO json")
    parser.add_argument("voc_root", help="folder with Annotations/, JPEGImages/, ImageSets/")
    parser.add_argument("--split", help="ImageSets/Main/<split>.txt to convert (default: all XML)")
    parser.add_argument("--classes", nargs="+",
                        help="class names, or one text file with a name a line "
                             "(default: the sorted names found)")
    parser.add_argument("--out", required=True, help="output json file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    classes = args.classes
    if classes is not None and len(classes) == 1 and classes[0].endswith(".txt"):
        classes = classes[0]
    try:
        coco = voc_to_coco(args.voc_root, split=args.split, classes=classes)
    except (OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    save_json(coco, args.out)
    print(f"wrote {args.out}: {len(coco['images'])} images, {len(coco['annotations'])} boxes, "
          f"{len(coco['categories'])} categories")
    return 0


if __name__ == "__main__":
    sys.exit(main())
