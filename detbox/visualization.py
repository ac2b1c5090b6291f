"""Drawing boxes and instance masks on images, and browsing a dataset's training samples.

Colours follow MMDetection v2: palettes are RGB tuples (a dataset's ``PALETTE``); images
are BGR ``uint8[H, W, 3]``.
"""

from __future__ import annotations

import copy
import logging
import os
import os.path as osp
from typing import Any, Sequence

import cv2
import numpy as np

logger = logging.getLogger(__name__)

__all__ = ["COLORS", "get_palette", "imshow_det_bboxes", "sample_to_image", "draw_masks",
           "browse_dataset", "DEFAULT_SKIP_TYPES", "MASK_ALPHA"]

# Named colours, RGB.
COLORS = {
    "red": (255, 0, 0), "green": (0, 255, 0), "blue": (0, 0, 255), "cyan": (0, 255, 255),
    "yellow": (255, 255, 0), "magenta": (255, 0, 255), "white": (255, 255, 255),
    "black": (0, 0, 0),
}

# What tools/analysis_tools/browse_dataset.py skips by default (as MMDetection v2).
DEFAULT_SKIP_TYPES = ("DefaultFormatBundle", "Normalize", "Collect")


def get_palette(palette: Any, num_classes: int) -> list[tuple[int, int, int]]:
    """One RGB colour per class.

    Args:
        palette: a list of RGB tuples (used as is), one RGB tuple (for every class), a
            colour name of :data:`COLORS`, or ``None``/``'random'`` (fixed random colours).
        num_classes: the number of classes.
    """
    if isinstance(palette, list):
        if len(palette) < num_classes:
            raise ValueError(f"palette has {len(palette)} colours for {num_classes} classes")
        return [tuple(int(v) for v in c) for c in palette]
    if isinstance(palette, tuple):
        return [tuple(int(v) for v in palette)] * num_classes
    if palette is None or palette == "random":
        colors = np.random.RandomState(42).randint(0, 256, size=(num_classes, 3))
        return [tuple(int(v) for v in c) for c in colors]
    if isinstance(palette, str) and palette in COLORS:
        return [COLORS[palette]] * num_classes
    raise ValueError(f"unknown palette {palette!r}; use a list of RGB tuples, an RGB tuple, "
                     f"'random' or one of {sorted(COLORS)}")


def imshow_det_bboxes(img: np.ndarray | str, bboxes: np.ndarray | None = None,
                      labels: np.ndarray | None = None, segms: Any = None,
                      class_names: Sequence[str] | None = None, score_thr: float = 0,
                      bbox_color: Any = "green", text_color: Any = "green",
                      mask_color: Any = None, thickness: int = 2, font_size: int = 8,
                      win_name: str = "", show: bool = True, wait_time: float = 0,
                      out_file: str | None = None) -> np.ndarray:
    """Draw boxes ``[N, 4]`` (or ``[N, 5]`` with scores), masks and class names on an image.

    MMDetection v2's arguments; drawn with OpenCV. Each mask is filled semi-transparently
    (:data:`MASK_ALPHA`) in its class colour and outlined, under the boxes.

    Args:
        img: a BGR image or its path.
        bboxes: ``float[N, 4|5]`` xyxy (+ score) in the image's pixels.
        labels: ``int[N]`` class indexes.
        segms: ``bool[N, H, W]`` instance masks of the boxes (or ``None``).
        class_names: names shown for labels (``class i`` otherwise).
        score_thr: hide boxes with a lower score (when scores are given).
        bbox_color, text_color: palette arguments of :func:`get_palette` (RGB).
        mask_color: palette of the masks (:func:`get_palette`; random colours if ``None``).
        thickness: box line width.
        font_size: text size in points (``font_size / 20`` OpenCV font scale).
        win_name: window title when shown.
        show: show the image with matplotlib.
        wait_time: seconds to show it (0: until the window is closed).
        out_file: write the drawn image here (folders are made).

    Returns:
        The drawn image, BGR ``uint8[H, W, 3]``.
    """
    if isinstance(img, str):
        path = img
        img = cv2.imread(path, cv2.IMREAD_COLOR)
        if img is None:
            raise FileNotFoundError(f"cannot read image {path}")
    img = np.ascontiguousarray(img).copy()
    bboxes = np.zeros((0, 4), np.float32) if bboxes is None else np.asarray(bboxes)
    labels = np.zeros(len(bboxes), np.int64) if labels is None else np.asarray(labels)
    if bboxes.ndim != 2 or bboxes.shape[1] not in (4, 5) or len(labels) != len(bboxes):
        raise ValueError(f"bboxes must be [N, 4] or [N, 5] with N labels, got {bboxes.shape} "
                         f"and {labels.shape}")
    if segms is not None:
        segms = np.asarray(segms)
        if segms.ndim != 3 or len(segms) != len(bboxes) or segms.shape[1:] != img.shape[:2]:
            raise ValueError(f"segms must be [N, H, W] masks of the {len(bboxes)} boxes on the "
                             f"{img.shape[:2]} image, got {segms.shape}")
    if score_thr > 0 and bboxes.shape[1] == 5:
        keep = bboxes[:, 4] > score_thr
        bboxes, labels = bboxes[keep], labels[keep]
        if segms is not None:
            segms = segms[keep]
    num_classes = max(len(class_names) if class_names is not None else 0,
                      int(labels.max(initial=0)) + 1)
    if segms is not None:
        draw_masks(img, segms, [get_palette(mask_color, num_classes)[lab] for lab in labels])
    box_colors = get_palette(bbox_color, num_classes)
    text_colors = get_palette(text_color, num_classes)
    scale = font_size / 20
    for box, label in zip(bboxes, labels):
        x1, y1, x2, y2 = (int(round(float(v))) for v in box[:4])
        color = box_colors[label][::-1]
        cv2.rectangle(img, (x1, y1), (x2, y2), color, thickness)
        text = class_names[label] if class_names is not None else f"class {label}"
        if len(box) > 4:
            text += f"|{box[4]:.02f}"
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        ty = max(y1, th + base)
        cv2.rectangle(img, (x1, ty - th - base), (x1 + tw, ty), (0, 0, 0), -1)
        cv2.putText(img, text, (x1, ty - base), cv2.FONT_HERSHEY_SIMPLEX, scale,
                    text_colors[label][::-1], 1, cv2.LINE_AA)
    if show:
        _show(img, win_name, wait_time)
    if out_file is not None:
        os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
        if not cv2.imwrite(out_file, img):
            raise OSError(f"cannot write image {out_file}")
    return img


MASK_ALPHA = 0.5  # opacity of the mask fill


def draw_masks(img: np.ndarray, masks: np.ndarray, colors: Sequence[tuple],
               alpha: float = MASK_ALPHA) -> np.ndarray:
    """Fill ``masks: bool[N, H, W]`` on the BGR ``img`` in place (RGB ``colors``), outlined."""
    for mask, color in zip(masks, colors):
        mask = mask.astype(bool)
        bgr = np.array(color[::-1], dtype=np.float32)
        img[mask] = (img[mask] * (1 - alpha) + bgr * alpha).astype(np.uint8)
        contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_CCOMP,
                                       cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(img, contours, -1, tuple(int(v) for v in color[::-1]), 1)
    return img


def result_to_masks(result: Any, shape: tuple[int, int]) -> np.ndarray | None:
    """The masks ``bool[N, H, W]`` of a ``(bbox, segm)`` result in box order (``None``
    without masks); RLE dicts are decoded."""
    if not isinstance(result, tuple):
        return None
    segm = result[1][0] if isinstance(result[1], tuple) else result[1]  # (segms, scores)
    masks = [m for per_class in segm for m in per_class]
    if not masks:
        return np.zeros((0, *shape), dtype=bool)
    if isinstance(masks[0], dict):
        from .structures.masks.functional import _mask_api

        return np.stack([_mask_api().decode(m) for m in masks]).astype(bool)
    return np.stack([_numpy(m) for m in masks]).astype(bool)


def result_to_arrays(result: Any) -> tuple[np.ndarray, np.ndarray]:
    """A per-class result (list of ``[n_c, 5]``; or ``(bbox, segm)``) -> ``(bboxes, labels)``."""
    per_class = result[0] if isinstance(result, tuple) else result
    if not len(per_class):
        return np.zeros((0, 5), dtype=np.float32), np.zeros(0, dtype=np.int64)
    bboxes = np.vstack(per_class).astype(np.float32, copy=False)
    labels = np.concatenate([np.full(len(b), i, dtype=np.int64) for i, b in enumerate(per_class)])
    return bboxes, labels


def show_det_result(img: np.ndarray | str, result: Any, class_names: Sequence[str] | None = None,
                    score_thr: float = 0.3, **kwargs: Any) -> np.ndarray:
    """Draw a detection result (per image: a list over classes of ``[n, 5]`` arrays, or
    ``(bbox_results, segm_results)`` with masks).

    ``kwargs`` go to :func:`imshow_det_bboxes` (colours, ``thickness``, ``show``,
    ``out_file``...). Returns the drawn BGR image.
    """
    if isinstance(img, str):
        path = img
        img = cv2.imread(path, cv2.IMREAD_COLOR)
        if img is None:
            raise FileNotFoundError(f"cannot read image {path}")
    bboxes, labels = result_to_arrays(result)
    segms = result_to_masks(result, img.shape[:2])
    return imshow_det_bboxes(img, bboxes, labels, segms=segms, class_names=class_names,
                             score_thr=score_thr, **kwargs)


def _show(img: np.ndarray, win_name: str, wait_time: float) -> None:
    import matplotlib.pyplot as plt

    plt.figure(win_name or "image")
    plt.clf()
    plt.imshow(img[..., ::-1])
    plt.axis("off")
    if wait_time > 0:
        plt.pause(wait_time)
    else:
        plt.show()


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) else value


def _numpy(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):  # a torch tensor
        return value.detach().cpu().numpy()
    return np.asarray(value)


def sample_masks(sample: dict, shape: tuple[int, int]) -> np.ndarray | None:
    """``bool[N, H', W']`` ground-truth masks of a sample (``None`` without ``gt_masks``),
    cut or zero-padded to the image ``shape``."""
    masks = sample.get("gt_masks")
    if masks is None:
        return None
    masks = _first(masks) if isinstance(masks, list) else masks
    arr = masks.to_ndarray() if hasattr(masks, "to_ndarray") else _numpy(masks)
    out = np.zeros((len(arr), *shape), dtype=bool)
    h, w = min(shape[0], arr.shape[1]), min(shape[1], arr.shape[2])
    out[:, :h, :w] = arr[:, :h, :w].astype(bool)
    return out


def sample_to_image(sample: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A viewable BGR image and its boxes from a pipeline output at any stage.

    Takes raw results (``img`` HWC), formatted ones (``img`` a CHW tensor), collected
    samples (``img_metas``) and test samples (lists: the first augmentation). The
    normalisation recorded in ``img_norm_cfg`` is undone (``x * std + mean``, then RGB to
    BGR when ``to_rgb``).

    Returns:
        ``(uint8[H, W, 3] BGR, float32[N, 4] boxes, int64[N] labels)``.
    """
    img = _numpy(_first(sample["img"]))
    if img.ndim == 3 and img.shape[0] in (1, 3) and img.shape[2] not in (1, 3):
        img = img.transpose(1, 2, 0)  # CHW from DefaultFormatBundle / ImageToTensor
    if img.ndim == 2:
        img = img[..., None]
    meta = _first(sample.get("img_metas", sample))
    norm = meta.get("img_norm_cfg") if isinstance(meta, dict) else None
    img = img.astype(np.float32)
    if norm is not None:
        img = img * np.asarray(norm["std"], np.float32) + np.asarray(norm["mean"], np.float32)
        if norm.get("to_rgb") and img.shape[2] == 3:
            img = img[..., ::-1]
    if img.shape[2] == 1:
        img = np.repeat(img, 3, axis=2)
    img = np.ascontiguousarray(np.clip(np.round(img), 0, 255).astype(np.uint8))
    boxes = sample.get("gt_bboxes")
    boxes = np.zeros((0, 4), np.float32) if boxes is None else \
        _numpy(_first(boxes)).astype(np.float32).reshape(-1, 4)
    labels = sample.get("gt_labels")
    labels = np.zeros(len(boxes), np.int64) if labels is None else \
        _numpy(_first(labels)).astype(np.int64).reshape(-1)
    return img, boxes, labels


def _skip_pipeline_steps(data_cfg: Any, skip_types: Sequence[str]) -> None:
    """Drop transforms of ``skip_types`` from the dataset config's own pipeline (v2's rule:
    the pipeline of the first dataset down the wrappers, or of MultiImageMixDataset)."""
    while isinstance(data_cfg, dict) and "dataset" in data_cfg \
            and data_cfg.get("type") != "MultiImageMixDataset":
        data_cfg = data_cfg["dataset"]
    for cfg in (data_cfg if isinstance(data_cfg, (list, tuple)) else [data_cfg]):
        if "pipeline" in cfg:
            cfg["pipeline"] = [t for t in cfg["pipeline"] if t.get("type") not in skip_types]


def browse_dataset(data_cfg: dict, output_dir: str | None = None,
                   skip_types: Sequence[str] = DEFAULT_SKIP_TYPES, show: bool = False,
                   show_interval: float = 2.0, max_images: int | None = None) -> list[str]:
    """Run a dataset's training pipeline and draw each sample's ground-truth boxes and masks.

    Args:
        data_cfg: a dataset config (``cfg.data.train``); not modified.
        output_dir: folder for the drawn images (named after the source files).
        skip_types: transform types removed from the pipeline first.
        show: show each image (matplotlib).
        show_interval: seconds each image is shown.
        max_images: stop after this many samples.

    Returns:
        The written file paths.
    """
    from tqdm import tqdm

    from .datasets import build_dataset

    data_cfg = copy.deepcopy(data_cfg)
    _skip_pipeline_steps(data_cfg, skip_types)
    dataset = build_dataset(data_cfg)
    names = getattr(dataset, "CLASSES", None)
    palette = getattr(dataset, "PALETTE", None)
    count = len(dataset) if max_images is None else min(len(dataset), max_images)
    written = []
    for i in tqdm(range(count), desc="browse"):
        sample = dataset[i]
        if sample is None:
            continue
        img, boxes, labels = sample_to_image(sample)
        meta = _first(sample.get("img_metas", sample))
        filename = meta.get("filename") if isinstance(meta, dict) else None
        out_file = None
        if output_dir is not None:
            name = osp.basename(filename) if filename else f"{i:06d}.jpg"
            out_file = osp.join(output_dir, name)
            written.append(out_file)
        imshow_det_bboxes(img, boxes, labels, segms=sample_masks(sample, img.shape[:2]),
                          class_names=names, mask_color=palette,
                          bbox_color=palette if palette is not None else "green",
                          text_color=(200, 200, 200), show=show, wait_time=show_interval,
                          out_file=out_file)
    logger.info("browse_dataset: %d samples%s", count,
                f", written to {output_dir}" if output_dir else "")
    return written
