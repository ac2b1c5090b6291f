"""Annotation converters to COCO json, and a stratified k-fold split of a COCO file.

The CLIs in ``tools/dataset_converters/`` call these functions.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .file_io import list_from_file, read_image_size
from .xml_style import parse_voc_xml

logger = logging.getLogger(__name__)

__all__ = ["voc_to_coco", "yolo_to_coco", "kfold_split", "save_json", "IMAGE_EXTENSIONS"]

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")


def save_json(obj: Any, path: str | os.PathLike) -> None:
    """Write ``obj`` as json, creating the folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f)


def _categories(classes: Sequence[str]) -> list[dict]:
    return [dict(id=i + 1, name=name, supercategory="none") for i, name in enumerate(classes)]


def _resolve_classes(classes: str | Sequence[str] | None) -> list[str] | None:
    if classes is None:
        return None
    if isinstance(classes, (str, os.PathLike)):
        return list_from_file(classes)
    return list(classes)


def voc_to_coco(voc_root: str | os.PathLike, split: str | None = None,
                ids: Sequence[str] | None = None, classes: str | Sequence[str] | None = None,
                ann_subdir: str = "Annotations", img_subdir: str = "JPEGImages") -> dict:
    """Convert Pascal VOC XML files to one COCO dict, with ``VOCDataset``'s box rules.

    Boxes are read as ``int(float(text))`` minus 1 (``bbox = [x1-1, y1-1, x2-x1, y2-y1]``),
    so ``CocoDataset`` on the result gives the same boxes as ``VOCDataset`` on the XML;
    ``difficult`` objects become ``iscrowd=1`` (ignored boxes); zero-size boxes are dropped.

    Args:
        voc_root: the folder with ``Annotations/``, ``JPEGImages/``, ``ImageSets/``.
        split: name of an ``ImageSets/Main/{split}.txt`` list of image ids.
        ids: image ids to convert (instead of ``split``); all XML files when both are None.
        classes: class names (list, or a text file); by default the sorted names found.
        ann_subdir: folder of the XML files.
        img_subdir: folder of the images; ``file_name`` is ``{img_subdir}/{id}.jpg``.

    Returns:
        A COCO dict; category ids are 1-based in ``classes`` order, image ids 1-based.
    """
    root = Path(voc_root)
    if ids is None and split is not None:
        ids = list_from_file(root / "ImageSets" / "Main" / f"{split}.txt")
    elif ids is None:
        ids = sorted(p.stem for p in (root / ann_subdir).glob("*.xml"))
        if not ids:
            raise FileNotFoundError(f"no XML files in {root / ann_subdir}")
    parsed = [(img_id, parse_voc_xml(str(root / ann_subdir / f"{img_id}.xml"))) for img_id in ids]
    names = _resolve_classes(classes)
    if names is None:
        names = sorted({o["name"] for _, p in parsed for o in p["objects"]})
    cat_of = {name: i + 1 for i, name in enumerate(names)}
    images, annotations, skipped, dropped = [], [], set(), 0
    for image_id, (img_id, p) in enumerate(parsed, start=1):
        file_name = f"{img_subdir}/{img_id}.jpg"
        width, height = p["width"], p["height"]
        if width is None:
            width, height = read_image_size(root / file_name)
        images.append(dict(id=image_id, file_name=file_name, width=width, height=height))
        for obj in p["objects"]:
            if obj["name"] not in cat_of:
                skipped.add(obj["name"])
                continue
            x1, y1, x2, y2 = (int(v) - 1 for v in obj["bbox"])
            w, h = x2 - x1, y2 - y1
            if w <= 0 or h <= 0:
                dropped += 1
                continue
            annotations.append(dict(
                id=len(annotations) + 1, image_id=image_id, category_id=cat_of[obj["name"]],
                bbox=[x1, y1, w, h], area=w * h, iscrowd=int(obj["difficult"]),
                segmentation=[[x1, y1, x1, y2, x2, y2, x2, y1]]))
    if skipped:
        logger.warning("objects of classes not in `classes` were skipped: %s", sorted(skipped))
    if dropped:
        logger.warning("dropped %d boxes with zero or negative width/height", dropped)
    return dict(images=images, annotations=annotations, categories=_categories(names))


def _default_label_dir(img_dir: Path) -> Path:
    parts = list(img_dir.parts)
    if "images" in parts:
        k = len(parts) - 1 - parts[::-1].index("images")
        parts[k] = "labels"
        return Path(*parts)
    return img_dir


def yolo_to_coco(img_dir: str | os.PathLike, classes: str | Sequence[str],
                 label_dir: str | os.PathLike | None = None) -> dict:
    """Convert YOLO txt labels (``class cx cy w h``, normalised to [0, 1]) to a COCO dict.

    Image sizes are read from the image files. An image without a label file has no boxes.

    Args:
        img_dir: folder of the images (searched recursively); ``file_name`` is relative to it.
        classes: class names in YOLO's index order (list, or a text file one a line).
        label_dir: folder of the ``.txt`` files, mirroring ``img_dir``; by default
            ``img_dir`` with its last ``images`` component replaced by ``labels`` (YOLO's
            layout), or ``img_dir`` itself.

    Returns:
        A COCO dict; category id = YOLO class index + 1; image ids 1-based.
    """
    img_dir = Path(img_dir)
    if not img_dir.is_dir():
        raise FileNotFoundError(f"image folder not found: {img_dir}")
    label_dir = Path(label_dir) if label_dir is not None else _default_label_dir(img_dir)
    names = _resolve_classes(classes)
    paths = sorted(p for p in img_dir.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS)
    if not paths:
        raise FileNotFoundError(f"no images ({', '.join(IMAGE_EXTENSIONS)}) in {img_dir}")
    images, annotations, unlabeled = [], [], 0
    for image_id, path in enumerate(paths, start=1):
        rel = path.relative_to(img_dir)
        width, height = read_image_size(path)
        images.append(dict(id=image_id, file_name=rel.as_posix(), width=width, height=height))
        label_file = (label_dir / rel).with_suffix(".txt")
        if not label_file.is_file():
            unlabeled += 1
            continue
        for line_no, line in enumerate(label_file.read_text().splitlines(), start=1):
            fields = line.split()
            if not fields:
                continue
            where = f"{label_file}:{line_no}"
            if len(fields) != 5:
                raise ValueError(f"{where}: expected 'class cx cy w h', got {line!r}")
            try:
                cls = int(fields[0])
                cx, cy, bw, bh = (float(v) for v in fields[1:])
            except ValueError as err:
                raise ValueError(f"{where}: {err} in {line!r}") from err
            if not 0 <= cls < len(names):
                raise ValueError(f"{where}: class index {cls} is not in 0..{len(names) - 1} "
                                 f"({len(names)} class names given)")
            w, h = bw * width, bh * height
            x1, y1 = cx * width - w / 2, cy * height - h / 2
            annotations.append(dict(id=len(annotations) + 1, image_id=image_id,
                                    category_id=cls + 1, bbox=[x1, y1, w, h], area=w * h,
                                    iscrowd=0))
    if unlabeled:
        logger.info("%d of %d images have no label file in %s", unlabeled, len(paths), label_dir)
    return dict(images=images, annotations=annotations, categories=_categories(names))


def kfold_split(coco: dict, num_folds: int = 5, seed: int = 0) -> list[tuple[dict, dict]]:
    """Split a COCO dict into ``num_folds`` (train, val) pairs, by image, stratified by class.

    Every image lands in exactly one val fold (all its annotations with it). Images are
    placed one by one (seeded shuffle, then those with the most uneven class mix first) in
    the fold that keeps each class's share of annotations most even across folds (ties: the
    fold with fewest images); images without annotations count as one extra class.

    Args:
        coco: a COCO dict (``images``, ``annotations``, ``categories``).
        num_folds: number of folds (>= 2).
        seed: shuffling seed.

    Returns:
        ``[(train_k, val_k)]`` COCO dicts (other top-level keys copied).
    """
    if num_folds < 2:
        raise ValueError(f"num_folds must be at least 2, got {num_folds}")
    images = coco["images"]
    if len(images) < num_folds:
        raise ValueError(f"cannot split {len(images)} images into {num_folds} folds")
    cat_ids = [c["id"] for c in coco["categories"]]
    col = {cid: j for j, cid in enumerate(cat_ids)}
    row = {img["id"]: i for i, img in enumerate(images)}
    counts = np.zeros((len(images), len(cat_ids) + 1))
    for ann in coco["annotations"]:
        if ann["image_id"] in row and ann["category_id"] in col:
            counts[row[ann["image_id"]], col[ann["category_id"]]] += 1
    counts[counts[:, :-1].sum(1) == 0, -1] = 1  # "no annotation" pseudo-class
    totals = np.maximum(counts.sum(0), 1)

    rng = np.random.default_rng(seed)
    order = rng.permutation(len(images))
    order = order[np.argsort(-counts[order].std(axis=1), kind="stable")]
    fold_counts = np.zeros((num_folds, counts.shape[1]))
    fold_sizes = np.zeros(num_folds, dtype=np.int64)
    fold_of = np.empty(len(images), dtype=np.int64)
    eye = np.eye(num_folds)[:, :, None]  # [K(candidate), K(fold), 1]
    for i in order:
        cand = fold_counts[None] + eye * counts[i][None, None]  # [K, K, C+1]
        spread = (cand / totals).std(axis=1).mean(axis=1)  # [K]
        best = np.flatnonzero(np.isclose(spread, spread.min()))
        k = best[np.argmin(fold_sizes[best])]
        fold_of[i] = k
        fold_counts[k] += counts[i]
        fold_sizes[k] += 1

    extra = {k: v for k, v in coco.items() if k not in ("images", "annotations")}
    splits = []
    for k in range(num_folds):
        val_ids = {images[i]["id"] for i in np.flatnonzero(fold_of == k)}

        def part(in_val: bool, val_ids: set = val_ids) -> dict:
            return dict(extra,
                        images=[im for im in images if (im["id"] in val_ids) == in_val],
                        annotations=[a for a in coco["annotations"]
                                     if (a["image_id"] in val_ids) == in_val])

        splits.append((part(False), part(True)))
    return splits

