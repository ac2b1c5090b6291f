"""Split one COCO json into k folds: ``train{k}.json`` / ``val{k}.json`` for k = 0..K-1.

    python tools/dataset_converters/kfold_split.py data/bccd/all.json --folds 5 --seed 0 \
        --out-dir data/bccd/folds

Folds are by image (each image in exactly one val file) and stratified by class.
"""

import argparse
import os.path as osp
import sys

from detbox.datasets.converters import kfold_split, save_json
from detbox.datasets.file_io import load_file


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Stratified k-fold split of a COCO json")
    parser.add_argument("ann_file", help="COCO json to split")
    parser.add_argument("--folds", type=int, default=5, help="number of folds")
    parser.add_argument("--seed", type=int, default=0, help="shuffling seed")
    parser.add_argument("--out-dir", help="output folder (default: beside ann_file)")
    args = parser.parse_args(argv)
    out_dir = args.out_dir or osp.dirname(osp.abspath(args.ann_file))
    try:
        coco = load_file(args.ann_file)
        splits = kfold_split(coco, args.folds, args.seed)
    except (OSError, ValueError, KeyError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    for k, (train, val) in enumerate(splits):
        save_json(train, osp.join(out_dir, f"train{k}.json"))
        save_json(val, osp.join(out_dir, f"val{k}.json"))
        print(f"fold {k}: train {len(train['images'])} images / {len(train['annotations'])} "
              f"boxes, val {len(val['images'])} images / {len(val['annotations'])} boxes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
