"""A tiny COCO-format detection data set drawn on the fly: coloured shapes on noise.

``make_shapes(root)`` writes ``root/images/*.png`` and ``root/train0.json`` /
``root/val0.json``. Each image holds one to three filled shapes (a rectangle, an ellipse or a
triangle, each class with its own colour) on low-contrast noise; the boxes are the shapes'
exact extents, so a detector can learn them in a few epochs.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

CLASSES = ("rectangle", "ellipse", "triangle")
# BGR fill colour per class (distinct, saturated, far from the grey noise).
_COLOURS = ((40, 40, 220), (220, 60, 40), (40, 200, 60))


def _draw(img: np.ndarray, label: int, x1: int, y1: int, x2: int, y2: int) -> None:
    colour = _COLOURS[label]
    if label == 0:
        cv2.rectangle(img, (x1, y1), (x2 - 1, y2 - 1), colour, thickness=-1)
    elif label == 1:
        centre = ((x1 + x2 - 1) // 2, (y1 + y2 - 1) // 2)
        axes = ((x2 - x1 - 1) // 2, (y2 - y1 - 1) // 2)
        cv2.ellipse(img, centre, axes, 0, 0, 360, colour, thickness=-1)
    else:
        pts = np.array([[x1, y2 - 1], [x2 - 1, y2 - 1], [(x1 + x2 - 1) // 2, y1]], np.int32)
        cv2.fillPoly(img, [pts], colour)


def _image(rng: np.random.Generator, width: int, height: int, max_shapes: int
           ) -> tuple[np.ndarray, list[tuple[int, list[float]]]]:
    img = rng.integers(90, 150, size=(height, width, 3), dtype=np.uint8)
    shapes: list[tuple[int, list[float]]] = []
    for _ in range(int(rng.integers(1, max_shapes + 1))):
        label = int(rng.integers(len(CLASSES)))
        w = int(rng.integers(width // 4, width // 2 + 1))
        h = int(rng.integers(height // 4, height // 2 + 1))
        x1 = int(rng.integers(0, width - w + 1))
        y1 = int(rng.integers(0, height - h + 1))
        _draw(img, label, x1, y1, x1 + w, y1 + h)
        shapes.append((label, [float(x1), float(y1), float(w), float(h)]))
    return img, shapes


def _coco(rng: np.random.Generator, root: Path, split: str, num: int, size: tuple[int, int],
          max_shapes: int, start_id: int) -> dict:
    images, annotations = [], []
    for i in range(num):
        width, height = size
        img, shapes = _image(rng, width, height, max_shapes)
        name = f"{split}_{i:03d}.png"
        cv2.imwrite(str(root / "images" / name), img)
        image_id = start_id + i
        images.append(dict(id=image_id, file_name=name, width=width, height=height))
        for label, (x, y, w, h) in shapes:
            annotations.append(dict(id=len(annotations) + 1, image_id=image_id,
                                    category_id=label + 1, bbox=[x, y, w, h], area=w * h,
                                    iscrowd=0))
    categories = [dict(id=i + 1, name=name) for i, name in enumerate(CLASSES)]
    return dict(images=images, annotations=annotations, categories=categories)


def make_shapes(root: str | Path, num_train: int = 24, num_val: int = 8,
                size: tuple[int, int] = (96, 96), max_shapes: int = 2, seed: int = 0) -> Path:
    """Write the data set under ``root``; returns ``root``.

    Args:
        root: folder to fill (created): ``images/``, ``train0.json``, ``val0.json``.
        num_train: training images.
        num_val: validation images.
        size: ``(width, height)`` of every image.
        max_shapes: most shapes per image (at least one).
        seed: the drawing's random seed (same seed, same files).
    """
    root = Path(root)
    (root / "images").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for split, num, start in (("train", num_train, 1), ("val", num_val, 1001)):
        data = _coco(rng, root, split, num, size, max_shapes, start)
        (root / f"{split}0.json").write_text(json.dumps(data))
    return root


_CHILD = """\
_base_ = '{base}'
model = dict({model})
classes = {classes!r}
img_norm_cfg = dict(
    mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', img_scale=(96, 96), keep_ratio=True),
    dict(type='RandomFlip', flip_ratio=0.0),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='Pad', size_divisor=32),
    dict(type='DefaultFormatBundle'),
    dict(type='Collect', keys=['img', 'gt_bboxes', 'gt_labels']),
]
data = dict(
    samples_per_gpu=2,
    workers_per_gpu=0,
    train=dict(type='CocoDataset', classes=classes, ann_file='{data}/train0.json',
               img_prefix='{data}/images/', pipeline=train_pipeline),
    val=dict(type='CocoDataset', classes=classes, ann_file='{data}/val0.json',
             img_prefix='{data}/images/'),
    test=dict(type='CocoDataset', classes=classes, ann_file='{data}/val0.json',
              img_prefix='{data}/images/'))
optimizer = dict(lr={lr})
lr_config = dict(warmup=None)
runner = dict(type='EpochBasedRunner', max_epochs=6)
log_config = dict(interval=1)
"""


def shapes_child_config(base: str | Path, data: str | Path, model: str, lr: float) -> str:
    """Text of a config inheriting ``base`` that trains on the shapes data at ``data``.

    96 px images without flips, batch 2, no workers, ``lr`` without warmup, 6 epochs, logging
    every iteration; ``model`` is the inside of its ``model = dict(...)`` override (e.g.
    ``"bbox_head=dict(num_classes=3)"``).
    """
    return _CHILD.format(base=base, data=data, model=model, classes=CLASSES, lr=lr)
