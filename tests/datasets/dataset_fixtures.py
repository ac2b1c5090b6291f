"""Test data of the dataset tests: the BCCD location and a tiny hand-made COCO file."""

import json
from pathlib import Path

import numpy as np

# BCCD (364 real images, VOC layout) sits beside the repository: <repo>/../shared/data/bccd
BCCD_ROOT = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "bccd" / "BCCD"

# File order of the categories is deliberately not id order and not the classes' order.
TINY_CATEGORIES = [
    dict(id=17, name="dog"),
    dict(id=3, name="cat"),
    dict(id=42, name="bird"),
    dict(id=99, name="fish"),
]
TINY_IMAGES = [
    dict(id=5, file_name="a.jpg", width=100, height=80),   # wide; the rich one
    dict(id=2, file_name="b.jpg", width=60, height=100),   # tall
    dict(id=9, file_name="c.jpg", width=100, height=100),  # no annotation at all
    dict(id=7, file_name="d.jpg", width=20, height=100),   # too narrow (min_size 32)
    dict(id=11, file_name="e.jpg", width=100, height=50),  # only a crowd box
    dict(id=12, file_name="f.jpg", width=80, height=80),   # only a 'fish'
]
POLY = [[10, 10, 30, 10, 30, 40]]
TINY_ANNOTATIONS = [
    dict(id=1, image_id=5, category_id=17, bbox=[10, 10, 20, 30], area=600, iscrowd=0,
         segmentation=POLY),                                                   # kept: dog
    dict(id=2, image_id=5, category_id=3, bbox=[0, 0, 50, 50], area=2500, iscrowd=1),  # ignore
    dict(id=3, image_id=5, category_id=42, bbox=[5, 5, 0, 10], area=0, iscrowd=0),    # w=0
    dict(id=4, image_id=5, category_id=42, bbox=[200, 10, 20, 20], area=400, iscrowd=0),  # out
    dict(id=5, image_id=5, category_id=17, bbox=[1, 1, 5, 5], area=25, ignore=1),     # ignore=1
    dict(id=6, image_id=5, category_id=3, bbox=[1, 1, 0.5, 5], area=2.5, iscrowd=0),  # w<1
    dict(id=7, image_id=2, category_id=42, bbox=[1, 2, 3, 4], area=12, iscrowd=0),    # bird
    dict(id=8, image_id=2, category_id=3, bbox=[50, 90, 20, 20], area=400, iscrowd=0),  # cat
    dict(id=9, image_id=7, category_id=3, bbox=[1, 1, 10, 10], area=100, iscrowd=0),
    dict(id=10, image_id=11, category_id=3, bbox=[0, 0, 10, 10], area=100, iscrowd=1),
    dict(id=11, image_id=12, category_id=99, bbox=[0, 0, 10, 10], area=100, iscrowd=0),
    dict(id=12, image_id=5, category_id=3, bbox=[-5, 70, 20, 20], area=400, iscrowd=0),  # cat
]


def write_coco(path: Path, images=None, annotations=None, categories=None, **extra) -> Path:
    """Write a COCO json (the tiny set by default) and return its path."""
    data = dict(images=TINY_IMAGES if images is None else images,
                annotations=TINY_ANNOTATIONS if annotations is None else annotations,
                categories=TINY_CATEGORIES if categories is None else categories, **extra)
    path.write_text(json.dumps(data))
    return path


class ToyDataset:
    """A stand-in dataset: item ``i`` is ``dict(idx=i)``; ``cats[i]`` are image i's labels."""

    CLASSES = ("a", "b")

    def __init__(self, cats, flag=None, offset=0):
        self.cats = cats
        self.offset = offset
        self.flag = np.asarray(flag if flag is not None else [0] * len(cats), dtype=np.uint8)

    def __len__(self):
        return len(self.cats)

    def __getitem__(self, idx):
        if not -len(self) <= idx < len(self):
            raise IndexError(idx)
        return dict(idx=idx % len(self) + self.offset)

    def get_cat_ids(self, idx):
        return list(self.cats[idx])

    def get_ann_info(self, idx):
        return dict(labels=np.array(self.cats[idx]), idx=idx + self.offset)

    def get_cat2imgs(self):
        out = {i: [] for i in range(len(self.CLASSES))}
        for i, cats in enumerate(self.cats):
            for c in set(cats):
                out[c].append(i)
        return out
