"""``CustomDataset``: MMDetection v2's detection dataset base, on compact annotation storage."""

from __future__ import annotations

import logging
import os
import os.path as osp
from typing import Any, Callable, Sequence

import numpy as np
from torch.utils.data import Dataset

from ..registry import DATASETS
from .annotation_store import AnnotationStore, DataInfos, RaggedArray
from .file_io import list_from_file, load_file
from .transforms import Compose

logger = logging.getLogger(__name__)

__all__ = ["CustomDataset", "add_context"]

# Consecutive samples the training pipeline may drop before __getitem__ gives up.
MAX_RESAMPLE = 1000


class _ContextKeyError(KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


def add_context(err: BaseException, where: str) -> BaseException:
    """``err`` re-made with ``where`` in front of its message (once: nested calls keep it).

    >>> str(add_context(ValueError('bad box'), 'CocoDataset[3] (a.jpg)'))
    'CocoDataset[3] (a.jpg): bad box'
    """
    if getattr(err, "_detbox_context", False):
        return err
    msg = f"{where}: {err}"
    if isinstance(err, KeyError):
        new: BaseException = _ContextKeyError(msg)
    else:
        try:
            new = type(err)(msg)
        except Exception:  # exception types whose constructor takes other arguments
            new = RuntimeError(msg)
    new._detbox_context = True  # type: ignore[attr-defined]
    return new


@DATASETS.register_module()
class CustomDataset(Dataset):
    """Detection dataset with MMDetection v2 semantics; the base of the COCO and VOC sets.

    Its own annotation file is v2's "middle format", a ``.pkl`` or ``.json`` list of::

        dict(filename='a.jpg', width=1280, height=720,
             ann=dict(bboxes=float32[n, 4] xyxy, labels=int64[n],
                      bboxes_ignore=float32[k, 4], labels_ignore=int64[k]))  # optional

    Annotations are kept in numpy buffers (:class:`AnnotationStore`); ``data_infos`` gives
    v2's per-image dicts, built on access. In training, images smaller than 32 px are
    dropped (``_filter_imgs``); ``dataset[i]`` then runs the pipeline on
    ``dict(img_info, ann_info, img_prefix, seg_prefix, proposal_file, bbox_fields, ...)``
    and, if a transform drops the sample, retries with a random image of the same
    aspect-ratio group.

    Args:
        ann_file: annotation file (joined to ``data_root`` when relative).
        pipeline: transforms (config dicts or callables), run by :class:`Compose`.
        classes: class names: a tuple/list, or the path of a text file with one a line;
            ``None`` keeps the class's ``CLASSES``.
        data_root: folder that relative ``ann_file``, ``img_prefix``, ``seg_prefix`` and
            ``proposal_file`` are joined to.
        img_prefix: folder of the images (``results['img_prefix']``).
        seg_prefix: folder of segmentation maps.
        seg_suffix: suffix of segmentation map files.
        proposal_file: ``.pkl``/``.json`` list of per-image proposal arrays ``[n, 4 or 5]``.
        test_mode: no filtering and ``dataset[i]`` runs the pipeline without ``ann_info``.
        filter_empty_gt: in training, drop images without boxes of the dataset's classes
            (COCO and VOC sets; the middle format ignores it, as v2 does).
        file_client_args: accepted for v2 configs; files are read from local disk.
    """

    CLASSES: Sequence[str] | None = None
    PALETTE: Sequence[tuple[int, int, int]] | None = None
    # Whether ``data_infos`` dicts carry ``ann`` (v2's middle format does; COCO/VOC do not).
    _infos_with_ann = True

    def __init__(self, ann_file: str, pipeline: Sequence[dict | Callable],
                 classes: str | Sequence[str] | None = None, data_root: str | None = None,
                 img_prefix: str | None = "", seg_prefix: str | None = None,
                 seg_suffix: str = ".png", proposal_file: str | None = None,
                 test_mode: bool = False, filter_empty_gt: bool = True,
                 file_client_args: dict | None = None) -> None:
        if file_client_args is not None and file_client_args.get("backend", "disk") != "disk":
            logger.warning("%s: file_client_args=%s is ignored; files are read from local disk",
                           type(self).__name__, file_client_args)
        self.ann_file = os.fspath(ann_file)
        self.data_root = data_root
        self.img_prefix = img_prefix
        self.seg_prefix = seg_prefix
        self.seg_suffix = seg_suffix
        self.proposal_file = proposal_file
        self.test_mode = test_mode
        self.filter_empty_gt = filter_empty_gt
        self.file_client_args = file_client_args
        self.CLASSES = self.get_classes(classes)
        self._filter_report: str | None = None

        if self.data_root is not None:
            self.ann_file = self._join_root(self.ann_file)
            self.img_prefix = self._join_root(self.img_prefix)
            self.seg_prefix = self._join_root(self.seg_prefix)
            self.proposal_file = self._join_root(self.proposal_file)

        self.data_infos = self.load_annotations(self.ann_file)
        self.proposals: RaggedArray | list | None = None
        if self.proposal_file is not None:
            self.proposals = self._compact_proposals(self.load_proposals(self.proposal_file))

        if not test_mode:
            before = len(self)
            valid_inds = self._filter_imgs()
            self._store = self._store.select(valid_inds)
            if self.proposals is not None:
                self.proposals = (self.proposals.select(valid_inds)
                                  if isinstance(self.proposals, RaggedArray)
                                  else [self.proposals[i] for i in valid_inds])
            if len(self) == 0:
                why = self._filter_report or f"{type(self).__name__}._filter_imgs removed them all"
                raise ValueError(
                    f"{type(self).__name__}: no training images left from {self.ann_file} "
                    f"({before} listed): {why}")
        self._set_group_flag()
        self.pipeline = Compose(list(pipeline))

    def _join_root(self, path: str | None) -> str | None:
        if path is None or osp.isabs(path):
            return path
        return osp.join(self.data_root, path)

    # ----------------------------------------------------------------- annotations
    @property
    def data_infos(self) -> DataInfos:
        """v2's per-image dicts (read-only; each built when accessed)."""
        return DataInfos(self._store, with_ann=self._infos_with_ann)

    @data_infos.setter
    def data_infos(self, infos: AnnotationStore | Sequence[dict]) -> None:
        if isinstance(infos, DataInfos):
            infos = list(infos)
        if isinstance(infos, AnnotationStore):
            self._store = infos
        elif isinstance(infos, (list, tuple)):
            self._store = AnnotationStore.from_infos(infos)
        else:
            raise TypeError(f"{type(self).__name__}: annotations of {self.ann_file} must be "
                            f"a list of per-image dicts, got {type(infos).__name__}")

    def __len__(self) -> int:
        return len(self._store)

    def load_annotations(self, ann_file: str) -> AnnotationStore | list[dict]:
        """Read the middle format (``.pkl``/``.json`` list of per-image dicts)."""
        infos = load_file(ann_file)
        if not isinstance(infos, (list, tuple)):
            raise ValueError(f"{ann_file}: expected a list of per-image dicts "
                             f"(filename, width, height, ann), got {type(infos).__name__}")
        for i, info in enumerate(infos):
            if not isinstance(info, dict):
                raise ValueError(f"{ann_file}: image {i} is a {type(info).__name__}, not a dict")
            missing = [k for k in ("filename", "width", "height") if k not in info]
            if missing:
                raise ValueError(f"{ann_file}: image {i} lacks key(s) {missing}")
        try:
            return AnnotationStore.from_infos(infos)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{ann_file}: {err}") from err

    def load_proposals(self, proposal_file: str) -> Any:
        """Read the per-image proposals (a list of ``[n, 4 or 5]`` arrays)."""
        return load_file(proposal_file)

    def _compact_proposals(self, proposals: Any) -> RaggedArray | list:
        if not isinstance(proposals, (list, tuple)):
            raise ValueError(f"{self.proposal_file}: expected a list of per-image arrays, "
                             f"got {type(proposals).__name__}")
        if len(proposals) != len(self._store):
            raise ValueError(f"{self.proposal_file} has {len(proposals)} entries but "
                             f"{self.ann_file} has {len(self._store)} images")
        try:
            rows = [np.asarray(p) for p in proposals]
            if all(r.dtype.kind in "biuf" and r.ndim == 2 for r in rows) \
                    and len({r.shape[1] for r in rows if r.size}) <= 1:
                return RaggedArray.from_rows(rows)
        except (TypeError, ValueError):
            pass
        return list(proposals)

    def get_ann_info(self, idx: int) -> dict[str, Any]:
        """``dict(bboxes=float32[n, 4] xyxy, labels=int64[n], bboxes_ignore=float32[k, 4])``."""
        return self._store.ann(idx)

    def evaluate(self, results: list, metric: str | list[str] = "mAP", logger: Any = None,
                 proposal_nums: Sequence[int] = (100, 300, 1000),
                 iou_thr: float | Sequence[float] = 0.5,
                 scale_ranges: Sequence[tuple] | None = None) -> dict:
        """v2's evaluation of the middle format: ``mAP`` (area AP) or proposal ``recall``."""
        from ..evaluation import custom_evaluate

        annotations = [self.get_ann_info(i) for i in range(len(self))]
        return custom_evaluate(results, annotations, self.CLASSES, metric=metric, logger=logger,
                               proposal_nums=proposal_nums, iou_thr=iou_thr,
                               scale_ranges=scale_ranges)

    def get_cat_ids(self, idx: int) -> list[int]:
        """Labels of the boxes of image ``idx``."""
        labels = self._store.get("ann.labels", idx)
        return [] if labels is None else np.asarray(labels).astype(np.int64).tolist()

    def get_cat2imgs(self) -> dict[int, list[int]]:
        """``{label: [indices of images that contain it]}`` (for ``ClassAwareSampler``)."""
        if self.CLASSES is None:
            raise ValueError(f"{type(self).__name__}: CLASSES is None; pass classes=(...)")
        cat2imgs: dict[int, list[int]] = {i: [] for i in range(len(self.CLASSES))}
        for i in range(len(self)):
            for label in set(self.get_cat_ids(i)):
                if label in cat2imgs:
                    cat2imgs[label].append(i)
        return cat2imgs

    # ----------------------------------------------------------------- filtering, groups
    def _filter_imgs(self, min_size: int = 32) -> list[int]:
        """Indices of images whose shorter side is at least ``min_size``."""
        if self.filter_empty_gt:
            logger.info("%s does not filter images without boxes (filter_empty_gt only "
                        "applies to COCO/VOC style datasets)", type(self).__name__)
        widths, heights = self._sizes()
        keep = np.minimum(widths, heights) >= min_size
        self._filter_report = (f"min_size={min_size} removed {int((~keep).sum())} images "
                               f"smaller than {min_size} px")
        return np.flatnonzero(keep).tolist()

    def _sizes(self) -> tuple[np.ndarray, np.ndarray]:
        """``(widths, heights)`` of all images as float arrays."""
        w, h = self._store.scalars("width"), self._store.scalars("height")
        if w is None or h is None:
            infos = self.data_infos
            w = np.array([float(info["width"]) for info in infos])
            h = np.array([float(info["height"]) for info in infos])
        return w.astype(np.float64), h.astype(np.float64)

    def _set_group_flag(self) -> None:
        """``flag[i] = 1`` where the image is wider than tall (``GroupSampler``'s groups)."""
        widths, heights = self._sizes()
        with np.errstate(divide="ignore", invalid="ignore"):
            self.flag = (widths / heights > 1).astype(np.uint8)

    def _rand_another(self, idx: int) -> int:
        """A random index of the same aspect-ratio group as ``idx``."""
        pool = np.where(self.flag == self.flag[idx])[0]
        return int(np.random.choice(pool))

    # ----------------------------------------------------------------- samples
    def pre_pipeline(self, results: dict[str, Any]) -> None:
        """Add the dataset-level keys the transforms read."""
        results["img_prefix"] = self.img_prefix
        results["seg_prefix"] = self.seg_prefix
        results["proposal_file"] = self.proposal_file
        results["bbox_fields"] = []
        results["mask_fields"] = []
        results["seg_fields"] = []

    def __getitem__(self, idx: int) -> Any:
        if self.test_mode:
            return self.prepare_test_img(idx)
        for _ in range(MAX_RESAMPLE):
            data = self.prepare_train_img(idx)
            if data is not None:
                return data
            idx = self._rand_another(idx)
        raise RuntimeError(f"{type(self).__name__}: the pipeline dropped {MAX_RESAMPLE} samples "
                           f"in a row (last index {idx}); check the pipeline and annotations")

    def prepare_train_img(self, idx: int) -> Any:
        """The training pipeline's output for image ``idx`` (``None`` if it dropped it)."""
        results = dict(img_info=self.data_infos[idx], ann_info=self.get_ann_info(idx))
        if self.proposals is not None:
            results["proposals"] = self.proposals[idx]
        self.pre_pipeline(results)
        return self._run_pipeline(results, idx)

    def prepare_test_img(self, idx: int) -> Any:
        """The test pipeline's output for image ``idx`` (no annotations)."""
        results = dict(img_info=self.data_infos[idx])
        if self.proposals is not None:
            results["proposals"] = self.proposals[idx]
        self.pre_pipeline(results)
        return self._run_pipeline(results, idx)

    def _run_pipeline(self, results: dict[str, Any], idx: int) -> Any:
        try:
            return self.pipeline(results)
        except Exception as err:
            name = results["img_info"].get("filename", "?")
            path = osp.join(self.img_prefix, name) if self.img_prefix else name
            raise add_context(err, f"{type(self).__name__}[{idx}] ({path})") from err

    # ----------------------------------------------------------------- classes
    @classmethod
    def get_classes(cls, classes: str | Sequence[str] | None = None) -> Sequence[str] | None:
        """Class names: ``cls.CLASSES`` for ``None``, a tuple/list as given, or a file's lines.

        A lone string that is not a file is refused: ``classes=('pig')`` is the string
        ``'pig'``, so write ``classes=('pig',)``.
        """
        if classes is None:
            return cls.CLASSES
        if isinstance(classes, (str, os.PathLike)):
            path = os.fspath(classes)
            if osp.isfile(path):
                names = list_from_file(path)
                if not names:
                    raise ValueError(f"classes file {path} lists no class names")
                return names
            if os.sep in path or "/" in path or osp.splitext(path)[1].lower() == ".txt":
                raise FileNotFoundError(f"classes file not found: {path}")
            raise ValueError(
                f"classes={path!r} is a single string, not a tuple of class names; for one class "
                f"write classes=({path!r},) (with the comma), or give the path of a text file "
                f"with one class name a line")
        if isinstance(classes, (tuple, list)):
            bad = [c for c in classes if not isinstance(c, str)]
            if bad:
                raise ValueError(f"classes must be strings, got {bad!r} in {classes!r}")
            return classes
        raise ValueError(f"classes must be a tuple/list of names or a file path, "
                         f"got {type(classes).__name__}: {classes!r}")

    def __repr__(self) -> str:
        kind = "Test" if self.test_mode else "Train"
        head = f"{type(self).__name__} {kind} dataset with {len(self)} images"
        if self.CLASSES is None:
            return head + "; category names are not provided"
        counts = np.zeros(len(self.CLASSES) + 1, dtype=np.int64)
        labels = self._store.ragged("labels")
        if labels is not None:
            valid = (labels.data >= 0) & (labels.data < len(self.CLASSES))
            counts[:-1] = np.bincount(labels.data[valid], minlength=len(self.CLASSES))
            counts[-1] = int((labels.lengths() == 0).sum())
        else:
            for i in range(len(self)):
                lab = self.get_ann_info(i).get("labels", np.zeros(0, np.int64))
                counts[-1] += len(lab) == 0
                np.add.at(counts, np.asarray(lab, dtype=np.int64), 1)
        parts = [f"{i} [{name}]: {counts[i]}" for i, name in enumerate(self.CLASSES)]
        parts.append(f"background images: {counts[-1]}")
        return head + "; instances: " + ", ".join(parts)
