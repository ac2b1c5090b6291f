"""``CocoDataset``: COCO-format json read with plain ``json``, as MMDetection v2 reads it."""

from __future__ import annotations

import logging
from typing import Any, Sequence

import numpy as np

from ..registry import DATASETS
from .annotation_store import AnnotationStore, ColumnView
from .custom import CustomDataset
from .file_io import load_file

logger = logging.getLogger(__name__)

__all__ = ["CocoDataset"]

COCO_CLASSES = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
    "traffic light", "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog",
    "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella",
    "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard", "sports ball", "kite",
    "baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket", "bottle",
    "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple", "sandwich",
    "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
    "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote",
    "keyboard", "cell phone", "microwave", "oven", "toaster", "sink", "refrigerator", "book",
    "clock", "vase", "scissors", "teddy bear", "hair drier", "toothbrush")

# Visualisation colours of the 80 classes (RGB), the values MMDetection 2.28 uses.
COCO_PALETTE = [
    (220, 20, 60), (119, 11, 32), (0, 0, 142), (0, 0, 230), (106, 0, 228), (0, 60, 100),
    (0, 80, 100), (0, 0, 70), (0, 0, 192), (250, 170, 30), (100, 170, 30), (220, 220, 0),
    (175, 116, 175), (250, 0, 30), (165, 42, 42), (255, 77, 255), (0, 226, 252), (182, 182, 255),
    (0, 82, 0), (120, 166, 157), (110, 76, 0), (174, 57, 255), (199, 100, 0), (72, 0, 118),
    (255, 179, 240), (0, 125, 92), (209, 0, 151), (188, 208, 182), (0, 220, 176), (255, 99, 164),
    (92, 0, 73), (133, 129, 255), (78, 180, 255), (0, 228, 0), (174, 255, 243), (45, 89, 255),
    (134, 134, 103), (145, 148, 174), (255, 208, 186), (197, 226, 255), (171, 134, 1),
    (109, 63, 54), (207, 138, 255), (151, 0, 95), (9, 80, 61), (84, 105, 51), (74, 65, 105),
    (166, 196, 102), (208, 195, 210), (255, 109, 65), (0, 143, 149), (179, 0, 194),
    (209, 99, 106), (5, 121, 0), (227, 255, 205), (147, 186, 208), (153, 69, 1), (3, 95, 161),
    (163, 255, 0), (119, 0, 170), (0, 182, 199), (0, 165, 120), (183, 130, 88), (95, 32, 0),
    (130, 114, 135), (110, 129, 133), (166, 74, 118), (219, 142, 185), (79, 210, 114),
    (178, 90, 62), (65, 70, 15), (127, 167, 115), (59, 105, 106), (142, 108, 45), (196, 172, 0),
    (95, 54, 80), (128, 76, 255), (201, 57, 1), (246, 0, 122), (191, 162, 208)]


@DATASETS.register_module()
class CocoDataset(CustomDataset):
    """COCO detection json (``images``, ``annotations``, ``categories``), v2 semantics.

    * Labels: ``cat_ids`` are the ids of the file's categories whose name is in
      ``CLASSES``, **in the file's category order** (v2's ``get_cat_ids(cat_names=...)``);
      label ``i`` is ``cat_ids[i]``. A ``classes`` override listed in another order keeps
      the file's order for labels (a warning says so).
    * Boxes ``[x, y, w, h]`` become ``[x1, y1, x2, y2] = [x, y, x + w, y + h]``; dropped when
      ``ignore`` is set, the box does not overlap the image, ``area <= 0``, ``w < 1`` or
      ``h < 1``, or its category is not a class; ``iscrowd=1`` boxes go to
      ``bboxes_ignore``.
    * Training only: with ``filter_empty_gt``, images without any annotation of the
      classes are dropped; images with a side under 32 px too.

    ``cat_ids``, ``cat2label`` and ``img_ids`` are as in v2; :attr:`coco` builds a
    ``faster_coco_eval.COCO`` of the file on first use (for evaluation).
    Arguments are :class:`CustomDataset`'s.
    """

    CLASSES = COCO_CLASSES
    PALETTE = COCO_PALETTE
    _infos_with_ann = False

    # ----------------------------------------------------------------- loading
    def load_annotations(self, ann_file: str) -> AnnotationStore:
        """Read and parse the json into the compact store; sets ``cat_ids``, ``cat2label``."""
        data = load_file(ann_file)
        keys = ("images", "annotations", "categories")
        if not isinstance(data, dict) or any(k not in data for k in keys):
            found = sorted(data)[:10] if isinstance(data, dict) else type(data).__name__
            raise ValueError(
                f"{ann_file} is not a COCO annotation file: expected a json object with keys "
                f"{list(keys)}, found {found}")
        self._set_categories(data["categories"], ann_file)
        # boxes _parse_ann_info leaves out, by reason (for the data check's report)
        self.dropped_boxes = {"zero area": 0, "outside the image": 0, "ignore flag": 0,
                              "crowd (ignored)": 0}

        images = data["images"]
        anns_of: dict[Any, list[dict]] = {}
        for i, img in enumerate(images):
            missing = [k for k in ("id", "file_name", "width", "height") if k not in img]
            if missing:
                raise ValueError(f"{ann_file}: images[{i}] lacks key(s) {missing}")
            if img["id"] in anns_of:
                raise ValueError(f"{ann_file}: image id {img['id']} appears more than once "
                                 f"(images[{i}], file_name {img['file_name']!r})")
            anns_of[img["id"]] = []
        for j, ann in enumerate(data["annotations"]):
            missing = [k for k in ("image_id", "bbox", "category_id") if k not in ann]
            if missing:
                raise ValueError(f"{ann_file}: annotations[{j}] (id {ann.get('id')}) lacks "
                                 f"key(s) {missing}")
            if ann["image_id"] in anns_of:
                anns_of[ann["image_id"]].append(ann)
        ann_ids = [a.get("id") for anns in anns_of.values() for a in anns]
        if len(set(ann_ids)) != len(ann_ids):
            raise ValueError(f"annotation ids in {ann_file} are not unique")

        infos = []
        for img in images:
            info = dict(img)
            info["filename"] = img["file_name"]
            anns = anns_of[img["id"]]
            try:
                ann = self._parse_ann_info(info, anns)
            except (KeyError, TypeError, ValueError) as err:
                raise ValueError(f"{ann_file}: bad annotation of image id {img['id']} "
                                 f"({img['file_name']}): {err}") from err
            ann.pop("seg_map", None)  # rebuilt from the file name on access
            cat_ids = [a["category_id"] for a in anns]
            ann["_cat_ids"] = (np.array(cat_ids, dtype=np.int64)
                               if all(type(c) is int for c in cat_ids) else cat_ids)
            info["ann"] = ann
            infos.append(info)
        del data, anns_of
        return AnnotationStore.from_infos(infos)

    def _set_categories(self, categories: Sequence[dict], ann_file: str) -> None:
        for i, cat in enumerate(categories):
            if "id" not in cat or "name" not in cat:
                raise ValueError(f"{ann_file}: categories[{i}] lacks 'id' or 'name': {cat}")
        names = [c["name"] for c in categories]
        if self.CLASSES is None:
            self.CLASSES = tuple(names)
        missing = [c for c in self.CLASSES if c not in names]
        if missing:
            raise ValueError(
                f"class name(s) {missing} are not categories of {ann_file}; its categories "
                f"are: {names}")
        wanted = set(self.CLASSES)
        chosen = [c for c in categories if c["name"] in wanted]
        seen: dict[str, Any] = {}
        for c in chosen:
            if c["name"] in seen:
                raise ValueError(f"{ann_file}: category name {c['name']!r} is used by ids "
                                 f"{seen[c['name']]} and {c['id']}")
            seen[c["name"]] = c["id"]
        self.cat_ids = [c["id"] for c in chosen]
        self.cat2label = {cat_id: i for i, cat_id in enumerate(self.cat_ids)}
        self._cat_id_set = set(self.cat_ids)
        order = [c["name"] for c in chosen]
        if order != list(self.CLASSES):
            logger.warning(
                "%s: classes are listed in another order than the categories of %s; as in "
                "MMDetection v2, label i is the i-th matching category of the file, so labels "
                "0..%d are %s while CLASSES names them %s", type(self).__name__, ann_file,
                len(order) - 1, order, list(self.CLASSES))

    def _parse_ann_info(self, img_info: dict, ann_info: list[dict]) -> dict[str, Any]:
        """v2's conversion of one image's COCO annotations to ``bboxes``/``labels``/...

        Returns:
            ``dict(bboxes=float32[n, 4] xyxy, labels=int64[n], bboxes_ignore=float32[k, 4],
            masks=list (segmentation of each box), seg_map=str)``.
        """
        cat_set = getattr(self, "_cat_id_set", None) or set(self.cat_ids)
        gt_bboxes, gt_labels, gt_bboxes_ignore, gt_masks_ann = [], [], [], []
        width, height = img_info["width"], img_info["height"]
        dropped = getattr(self, "dropped_boxes", None)
        if dropped is None:
            dropped = self.dropped_boxes = {}

        def drop(reason: str) -> None:
            dropped[reason] = dropped.get(reason, 0) + 1

        for ann in ann_info:
            if ann.get("ignore", False):
                drop("ignore flag")
                continue
            bbox = ann["bbox"]
            if len(bbox) != 4:
                raise ValueError(f"annotation id {ann.get('id')}: bbox must be [x, y, w, h], "
                                 f"got {bbox}")
            x1, y1, w, h = bbox
            inter_w = max(0, min(x1 + w, width) - max(x1, 0))
            inter_h = max(0, min(y1 + h, height) - max(y1, 0))
            if ann["category_id"] not in cat_set:
                continue
            # (both drop the box; v2 tests overlap first, the count names the size first)
            if ann.get("area", w * h) <= 0 or w < 1 or h < 1:
                drop("zero area")
                continue
            if inter_w * inter_h == 0:
                drop("outside the image")
                continue
            box = [x1, y1, x1 + w, y1 + h]
            if ann.get("iscrowd", False):
                drop("crowd (ignored)")
                gt_bboxes_ignore.append(box)
            else:
                gt_bboxes.append(box)
                gt_labels.append(self.cat2label[ann["category_id"]])
                gt_masks_ann.append(ann.get("segmentation", None))
        return dict(
            bboxes=np.array(gt_bboxes, dtype=np.float32).reshape(-1, 4),
            labels=np.array(gt_labels, dtype=np.int64),
            bboxes_ignore=np.array(gt_bboxes_ignore, dtype=np.float32).reshape(-1, 4),
            masks=gt_masks_ann,
            seg_map=img_info["filename"].rsplit(".", 1)[0] + self.seg_suffix,
        )

    # ----------------------------------------------------------------- access
    def get_ann_info(self, idx: int) -> dict[str, Any]:
        """``dict(bboxes, labels, bboxes_ignore, masks, seg_map)`` of image ``idx``."""
        ann = self._store.ann(idx)
        ann["seg_map"] = self._store.get("filename", idx).rsplit(".", 1)[0] + self.seg_suffix
        return ann

    def get_cat_ids(self, idx: int) -> list:
        """COCO category ids of every annotation of image ``idx`` (as v2: raw ids, all anns)."""
        ids = self._store.get("ann._cat_ids", idx)
        return [] if ids is None else np.asarray(ids).tolist()

    def get_cat2imgs(self) -> dict[int, list[int]]:
        """``{label: [indices of images with an annotation of that class]}``."""
        cat2imgs: dict[int, list[int]] = {i: [] for i in range(len(self.cat_ids))}
        for i in range(len(self)):
            for cat_id in set(self.get_cat_ids(i)):
                if cat_id in self.cat2label:
                    cat2imgs[self.cat2label[cat_id]].append(i)
        return cat2imgs

    @property
    def img_ids(self) -> ColumnView | list:
        """COCO image ids of the dataset's images, in order (after filtering)."""
        ids = self._store.scalars("id")
        if ids is not None:
            return ColumnView(ids)
        return [self._store.get("id", i) for i in range(len(self))]

    @property
    def coco(self) -> Any:
        """A ``faster_coco_eval.COCO`` of the annotation file, built on first use."""
        if getattr(self, "_coco", None) is None:
            from faster_coco_eval import COCO

            self._coco = COCO(self.ann_file)
        return self._coco

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("_coco", None)  # workers do not need the evaluation index
        return state

    # ----------------------------------------------------------------- filtering
    def _filter_imgs(self, min_size: int = 32) -> list[int]:
        """Training images with an annotation of the classes and both sides >= ``min_size``."""
        n = len(self._store)
        raw = self._store.ragged("_cat_ids")
        if raw is not None:
            in_cat = np.zeros(n, dtype=bool)
            hit = np.isin(raw.data, np.asarray(self.cat_ids, dtype=raw.data.dtype)) \
                if len(self.cat_ids) else np.zeros(len(raw.data), dtype=bool)
            in_cat[raw.row_ids()[hit]] = True
        else:
            in_cat = np.array([any(c in self._cat_id_set for c in self.get_cat_ids(i))
                               for i in range(n)], dtype=bool)
        widths, heights = self._sizes()
        big = np.minimum(widths, heights) >= min_size
        first = in_cat if self.filter_empty_gt else np.ones(n, dtype=bool)
        parts = []
        if self.filter_empty_gt:
            parts.append(f"filter_empty_gt=True removed {int((~in_cat).sum())} images without "
                         f"annotations of the classes {list(self.CLASSES)}")
        parts.append(f"min_size={min_size} removed {int((first & ~big).sum())} images smaller "
                     f"than {min_size} px")
        self._filter_report = "; ".join(parts)
        return np.flatnonzero(first & big).tolist()

    def evaluate(self, results: list, metric: str | list[str] = "bbox", logger: Any = None,
                 jsonfile_prefix: str | None = None, classwise: bool = False,
                 proposal_nums: Sequence[int] = (100, 300, 1000),
                 iou_thrs: Sequence[float] | None = None,
                 metric_items: str | list[str] | None = None) -> dict:
        """COCO protocol (``bbox``, ``segm``, ``proposal``, ``proposal_fast``), v2's result keys."""
        from ..evaluation import coco_evaluate

        return coco_evaluate(self.coco, results, self.cat_ids, list(self.img_ids), self.CLASSES,
                             metric=metric, logger=logger, jsonfile_prefix=jsonfile_prefix,
                             classwise=classwise, proposal_nums=proposal_nums,
                             iou_thrs=iou_thrs, metric_items=metric_items)

    def format_results(self, results: list, jsonfile_prefix: str | None = None,
                       **kwargs: Any) -> tuple:
        """Write COCO results json files; returns ``(result_files, tmp_dir)`` as v2."""
        from ..evaluation import format_results

        if len(results) != len(self):
            raise ValueError(f"{len(results)} results for {len(self)} images")
        return format_results(results, list(self.img_ids), self.cat_ids, jsonfile_prefix)
