"""Generate the synthetic shapes data set in COCO format.

    python tools/misc/make_shapes.py --out-dir data/shapes --num-train 500 --num-val 100

writes ``OUT/images/*.jpg`` and ``OUT/annotations/{train,val}.json`` (classes: circle,
square, triangle, star, cross).
"""

import argparse
import logging
import sys
import time

from detbox.datasets.synthetic_shapes import (
    SHAPE_CLASSES,
    ShapesSettings,
    make_shapes_dataset,
)


def main(argv=None) -> int:
    d = ShapesSettings()
    parser = argparse.ArgumentParser(description="Generate a synthetic shapes data set (COCO)")
    parser.add_argument("--out-dir", required=True, help="data set folder to write")
    parser.add_argument("--num-train", type=int, default=500, help="training images")
    parser.add_argument("--num-val", type=int, default=100, help="validation images")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument("--min-size", type=int, default=d.min_size, help="smallest image side")
    parser.add_argument("--max-size", type=int, default=d.max_size, help="largest image side")
    parser.add_argument("--min-objects", type=int, default=d.min_objects,
                        help="fewest shapes per image")
    parser.add_argument("--max-objects", type=int, default=d.max_objects,
                        help="most shapes per image")
    parser.add_argument("--min-object-frac", type=float, default=d.min_object_frac,
                        help="smallest shape, as a fraction of the shorter image side")
    parser.add_argument("--max-object-frac", type=float, default=d.max_object_frac,
                        help="largest shape, as a fraction of the shorter image side")
    parser.add_argument("--max-overlap", type=float, default=d.max_overlap,
                        help="largest box intersection over the smaller box's area")
    parser.add_argument("--noise-std", type=float, default=d.noise_std,
                        help="largest background pixel noise (std)")
    parser.add_argument("--classes", nargs="+", default=list(SHAPE_CLASSES),
                        choices=SHAPE_CLASSES, help="shape kinds to draw")
    parser.add_argument("--jpeg-quality", type=int, default=95)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        settings = ShapesSettings(
            min_size=args.min_size, max_size=args.max_size, min_objects=args.min_objects,
            max_objects=args.max_objects, min_object_frac=args.min_object_frac,
            max_object_frac=args.max_object_frac, max_overlap=args.max_overlap,
            noise_std=args.noise_std, classes=tuple(args.classes))
    except ValueError as err:
        parser.error(str(err))
    start = time.perf_counter()
    make_shapes_dataset(args.out_dir, args.num_train, args.num_val, args.seed, settings,
                        args.jpeg_quality)
    logging.info("done in %.1f s; classes: %s", time.perf_counter() - start,
                 ", ".join(settings.classes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
