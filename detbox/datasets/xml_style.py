"""``XMLDataset``: Pascal VOC style XML annotations, listed by an ``ImageSets`` split file."""

from __future__ import annotations

import logging
import os.path as osp
import xml.etree.ElementTree as ET
from typing import Any

import numpy as np

from ..registry import DATASETS
from .annotation_store import AnnotationStore
from .custom import CustomDataset
from .file_io import list_from_file, read_image_size

logger = logging.getLogger(__name__)

__all__ = ["XMLDataset", "parse_voc_xml"]


def _text(node: ET.Element | None, tag: str) -> str | None:
    child = None if node is None else node.find(tag)
    return None if child is None or child.text is None else child.text.strip()


def parse_voc_xml(xml_path: str) -> dict[str, Any]:
    """Read one VOC XML file as written (no box conversion).

    Returns:
        ``dict(filename, width, height, objects)``; ``width``/``height`` are ``None`` when the
        ``size`` element is missing or zero; each object is
        ``dict(name, difficult: bool, bbox: [xmin, ymin, xmax, ymax] as floats)``.
    """
    if not osp.isfile(xml_path):
        raise FileNotFoundError(f"annotation file not found: {xml_path}")
    try:
        root = ET.parse(xml_path).getroot()
    except ET.ParseError as err:
        raise ValueError(f"{xml_path} is not valid XML: {err}") from err
    size = root.find("size")
    width, height = _text(size, "width"), _text(size, "height")
    try:
        width = int(float(width)) if width else None
        height = int(float(height)) if height else None
    except ValueError as err:
        raise ValueError(f"{xml_path}: bad image size: {err}") from err
    if not width or not height:
        width = height = None
    objects = []
    for k, obj in enumerate(root.findall("object")):
        name = _text(obj, "name")
        box = obj.find("bndbox")
        coords = [_text(box, t) for t in ("xmin", "ymin", "xmax", "ymax")]
        if name is None or any(c is None for c in coords):
            raise ValueError(f"{xml_path}: object {k} lacks a name or a full bndbox")
        try:
            bbox = [float(c) for c in coords]
            difficult = int(float(_text(obj, "difficult") or 0))
        except ValueError as err:
            raise ValueError(f"{xml_path}: object {k} ({name}): {err}") from err
        objects.append(dict(name=name, difficult=bool(difficult), bbox=bbox))
    return dict(filename=_text(root, "filename"), width=width, height=height, objects=objects)


@DATASETS.register_module()
class XMLDataset(CustomDataset):
    """Pascal VOC style dataset: ``ann_file`` lists image ids, one XML per image.

    Image ``id`` is read from ``{img_prefix}/{ann_subdir}/{id}.xml`` and shown from
    ``{img_prefix}/{img_subdir}/{id}.jpg``. As MMDetection v2 does, box corners are read with
    ``int(float(text))`` and 1 is subtracted from all four (VOC's 1-based pixels);
    ``difficult`` boxes and, in training, boxes narrower or shorter than ``min_size`` go to
    ``bboxes_ignore``. Unlike v2, boxes of zero or negative width/height are dropped (with a
    warning) instead of reaching the losses. The image size comes from the XML ``size``, or
    from the image file when that is missing or zero. Training keeps images with at least one
    object of the classes when ``filter_empty_gt``.

    Args:
        min_size: boxes smaller than this (in training) are ignored.
        img_subdir: folder of the images under ``img_prefix``.
        ann_subdir: folder of the XML files under ``img_prefix``.
        **kwargs: :class:`CustomDataset`'s arguments.
    """

    _infos_with_ann = False

    def __init__(self, min_size: float | None = None, img_subdir: str = "JPEGImages",
                 ann_subdir: str = "Annotations", **kwargs: Any) -> None:
        if not (self.CLASSES or kwargs.get("classes")):
            raise ValueError(f"{type(self).__name__} needs class names: pass classes=(...)")
        if min_size and kwargs.get("test_mode", False):
            raise ValueError(f"{type(self).__name__}: min_size is for training only (v2 asserts "
                             f"the same); remove it from the val/test dataset config")
        self.img_subdir = img_subdir
        self.ann_subdir = ann_subdir
        self.min_size = min_size
        super().__init__(**kwargs)
        self.cat2label = {cat: i for i, cat in enumerate(self.CLASSES)}

    def load_annotations(self, ann_file: str) -> AnnotationStore:
        """Parse every XML of the split once into the compact store."""
        cat2label = {cat: i for i, cat in enumerate(self.CLASSES)}
        prefix = self.img_prefix or ""
        infos = []
        degenerate = []
        for img_id in list_from_file(ann_file):
            filename = osp.join(self.img_subdir, f"{img_id}.jpg")
            xml_path = osp.join(prefix, self.ann_subdir, f"{img_id}.xml")
            try:
                parsed = parse_voc_xml(xml_path)
            except FileNotFoundError as err:
                raise FileNotFoundError(f"{err} (image id {img_id!r} listed in {ann_file})") \
                    from err
            width, height = parsed["width"], parsed["height"]
            if width is None:
                width, height = read_image_size(osp.join(prefix, filename))
            ann = self._objects_to_ann(parsed["objects"], cat2label)
            if ann.pop("_degenerate"):
                degenerate.append(img_id)
            infos.append(dict(id=img_id, filename=filename, width=width, height=height,
                              ann=ann))
        if degenerate:
            logger.warning("%s: dropped boxes with zero or negative width/height in %d image(s) "
                           "of %s: %s", type(self).__name__, len(degenerate), ann_file,
                           ", ".join(degenerate[:10]) + (" ..." if len(degenerate) > 10 else ""))
        return AnnotationStore.from_infos(infos)

    def _objects_to_ann(self, objects: list[dict], cat2label: dict[str, int]) -> dict[str, Any]:
        bboxes, labels, bboxes_ignore, labels_ignore, cat_ids = [], [], [], [], []
        degenerate = 0
        for obj in objects:
            if obj["name"] not in cat2label:
                continue
            label = cat2label[obj["name"]]
            cat_ids.append(label)
            bbox = [int(v) for v in obj["bbox"]]
            w, h = bbox[2] - bbox[0], bbox[3] - bbox[1]
            if w <= 0 or h <= 0:
                degenerate += 1
                continue
            ignore = bool(self.min_size) and (w < self.min_size or h < self.min_size)
            if obj["difficult"] or ignore:
                bboxes_ignore.append(bbox)
                labels_ignore.append(label)
            else:
                bboxes.append(bbox)
                labels.append(label)
        return dict(
            bboxes=np.array(bboxes, dtype=np.float32).reshape(-1, 4) - 1,
            labels=np.array(labels, dtype=np.int64),
            bboxes_ignore=np.array(bboxes_ignore, dtype=np.float32).reshape(-1, 4) - 1,
            labels_ignore=np.array(labels_ignore, dtype=np.int64),
            _cat_ids=np.array(cat_ids, dtype=np.int64),
            _degenerate=degenerate,
        )

    def _filter_imgs(self, min_size: int = 32) -> list[int]:
        """Training images with an object of the classes (any) and both sides >= ``min_size``."""
        widths, heights = self._sizes()
        big = np.minimum(widths, heights) >= min_size
        raw = self._store.ragged("_cat_ids")
        has = (raw.lengths() > 0 if raw is not None
               else np.array([len(self.get_cat_ids(i)) > 0 for i in range(len(big))], bool))
        first = has if self.filter_empty_gt else np.ones(len(big), dtype=bool)
        parts = [f"min_size={min_size} removed {int((first & ~big).sum())} images smaller "
                 f"than {min_size} px"]
        if self.filter_empty_gt:
            parts.insert(0, f"filter_empty_gt=True removed {int((~has).sum())} images without "
                            f"objects of the classes {list(self.CLASSES)}")
        self._filter_report = "; ".join(parts)
        return np.flatnonzero(first & big).tolist()

    def get_cat_ids(self, idx: int) -> list[int]:
        """Labels of every object of the classes in image ``idx`` (difficult ones included)."""
        raw = self._store.get("ann._cat_ids", idx)
        if raw is None:  # annotations loaded by a subclass in v2's list-of-dicts form
            ann = self.get_ann_info(idx)
            raw = np.concatenate([ann.get("labels", []), ann.get("labels_ignore", [])])
        return np.asarray(raw, dtype=np.int64).tolist()
