"""How long the data check takes: BCCD and N generated JPEG images (header check vs full decode).

    python bench/data_check_speed.py --bccd /work/shared/data/bccd/BCCD --num 5000

Prints the seconds of ``check_dataset`` (every file opened, its header decoded by PIL) and,
for comparison, of decoding every image fully with OpenCV.
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from detbox.datasets import CocoDataset
from detbox.datasets.converters import save_json, voc_to_coco
from detbox.datasets.data_check import check_dataset


def timed(dataset) -> tuple[float, float]:
    start = time.perf_counter()
    check_dataset(dataset, "bench")
    check = time.perf_counter() - start
    start = time.perf_counter()
    for i in range(len(dataset)):
        cv2.imread(str(Path(dataset.img_prefix) / dataset.data_infos[i]["filename"]))
    return check, time.perf_counter() - start


def generated(root: Path, num: int, size: tuple[int, int] = (640, 480)) -> CocoDataset:
    (root / "images").mkdir(parents=True)
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, size=(size[1], size[0], 3), dtype=np.uint8)
    images, anns = [], []
    for i in range(num):
        img = np.roll(base, i, axis=1)
        cv2.imwrite(str(root / "images" / f"{i:05d}.jpg"), img)
        images.append(dict(id=i, file_name=f"{i:05d}.jpg", width=size[0], height=size[1]))
        anns.append(dict(id=i, image_id=i, category_id=1, bbox=[10, 10, 50, 50], area=2500,
                         iscrowd=0))
    (root / "ann.json").write_text(json.dumps(dict(
        images=images, annotations=anns, categories=[dict(id=1, name="thing")])))
    return CocoDataset(str(root / "ann.json"), pipeline=[], img_prefix=str(root / "images"),
                       classes=("thing",), test_mode=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bccd", help="the BCCD VOC folder (Annotations/, JPEGImages/)")
    parser.add_argument("--num", type=int, default=5000, help="generated images")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        if args.bccd:
            coco = voc_to_coco(args.bccd)
            save_json(coco, f"{tmp}/bccd.json")
            ds = CocoDataset(f"{tmp}/bccd.json", pipeline=[], img_prefix=args.bccd,
                             classes=[c["name"] for c in coco["categories"]], test_mode=True)
            check, full = timed(ds)
            print(f"BCCD: {len(ds)} images: data check {check:.2f} s, full decode {full:.2f} s")
        ds = generated(Path(tmp) / "gen", args.num)
        check, full = timed(ds)
        print(f"generated 640x480 JPEG: {len(ds)} images: data check {check:.2f} s, "
              f"full decode {full:.2f} s")


if __name__ == "__main__":
    main()
