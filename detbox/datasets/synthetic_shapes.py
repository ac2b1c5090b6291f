"""A synthetic detection data set: coloured shapes on varied backgrounds, in COCO format.

Each image has a random size and aspect ratio, a background (solid, gradient, smooth
blotches or a striped/line texture, with pixel noise), and a few filled shapes
(:data:`SHAPE_CLASSES`) of random size, rotation and colour, drawn anti-aliased with OpenCV.
Shapes lie wholly inside the image and overlap each other only a little.

A box is tight around the pixels where its shape is visible: a shape's anti-aliased
coverage ``a`` (0..1) is composited as ``img = img * (1 - a) + colour * a``; its visible
coverage is ``a`` times ``(1 - a')`` of every shape drawn later; its box is the extent
``[x_min, y_min, x_max + 1, y_max + 1]`` of the pixels whose visible coverage is at least
0.5, and its ``area`` their count. Its COCO ``segmentation`` is the outer contours of those
pixels as polygons through the border pixels' centres (``x + 0.5, y + 0.5``).

Every image depends only on ``(seed, split, index)``, so a data set is reproducible and
can be generated in any order.

>>> scene = render_scene(np.random.default_rng(0), ShapesSettings(min_size=64, max_size=64))
>>> scene.image.shape, scene.image.dtype.name
((64, 64, 3), 'uint8')
>>> len(scene.boxes) == len(scene.labels) >= 1
True
"""

from __future__ import annotations

import json
import logging
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import Callable

import cv2
import numpy as np

logger = logging.getLogger(__name__)

__all__ = ["SHAPE_CLASSES", "ShapesSettings", "Scene", "render_scene", "make_split",
           "make_shapes_dataset"]

SHAPE_CLASSES = ("circle", "square", "triangle", "star", "cross")
SPLITS = ("train", "val")

_SHIFT = 4  # fractional bits of the coordinates given to OpenCV (1/16 px precision)
_ONE = 1 << _SHIFT


@dataclass(frozen=True)
class ShapesSettings:
    """What a generated image may look like.

    Args:
        min_size: smallest image side, px.
        max_size: largest image side, px (each side is drawn independently, so aspect
            ratios range from ``min_size / max_size`` to its inverse).
        min_objects: fewest shapes tried per image.
        max_objects: most shapes per image.
        min_object_frac: smallest shape extent, as a fraction of the shorter image side.
        max_object_frac: largest shape extent, likewise (sizes are log-uniform between).
        max_overlap: largest intersection of two shapes' boxes over the smaller box's area.
        noise_std: largest standard deviation of the background's Gaussian pixel noise.
        min_contrast: least RGB distance between a shape's colour and the mean
            background under it.
        classes: shape kinds drawn, a subset of :data:`SHAPE_CLASSES`.
    """

    min_size: int = 160
    max_size: int = 320
    min_objects: int = 1
    max_objects: int = 6
    min_object_frac: float = 0.1
    max_object_frac: float = 0.5
    max_overlap: float = 0.15
    noise_std: float = 8.0
    min_contrast: float = 80.0
    classes: tuple[str, ...] = field(default=SHAPE_CLASSES)

    def __post_init__(self) -> None:
        if not 16 <= self.min_size <= self.max_size:
            raise ValueError(f"need 16 <= min_size <= max_size, got {self.min_size}, "
                             f"{self.max_size}")
        if not 0 <= self.min_objects <= self.max_objects or self.max_objects < 1:
            raise ValueError(f"need 0 <= min_objects <= max_objects and max_objects >= 1, got "
                             f"{self.min_objects}, {self.max_objects}")
        if not 0 < self.min_object_frac <= self.max_object_frac <= 1:
            raise ValueError(f"need 0 < min_object_frac <= max_object_frac <= 1, got "
                             f"{self.min_object_frac}, {self.max_object_frac}")
        unknown = [c for c in self.classes if c not in SHAPE_CLASSES]
        if unknown or not self.classes or len(set(self.classes)) != len(self.classes):
            raise ValueError(f"classes must be distinct names of {SHAPE_CLASSES}, got "
                             f"{self.classes}")


@dataclass
class Scene:
    """One rendered image and its objects.

    Attributes:
        image: ``uint8[H, W, 3]`` BGR.
        background: ``uint8[H, W, 3]`` BGR, the image before the shapes were drawn.
        boxes: ``float32[N, 4]`` xyxy, tight around each shape's visible pixels.
        labels: ``int64[N]`` indexes into ``settings.classes``.
        areas: ``float32[N]`` visible pixels of each shape.
        colors: ``uint8[N, 3]`` BGR fill colour of each shape.
        polygons: per shape, its COCO polygons (flat ``[x0, y0, x1, y1, ...]`` lists).
    """

    image: np.ndarray
    background: np.ndarray
    boxes: np.ndarray
    labels: np.ndarray
    areas: np.ndarray
    colors: np.ndarray
    polygons: list = field(default_factory=list)


def _mask_polygons(visible: np.ndarray, box: list) -> list[list[float]]:
    """COCO polygons of a ``bool[H, W]`` mask: outer contours through pixel centres.

    Contours with fewer than 3 points are dropped; if none is left, the box is used.
    """
    contours, _ = cv2.findContours(visible.astype(np.uint8), cv2.RETR_EXTERNAL,
                                   cv2.CHAIN_APPROX_SIMPLE)
    polys = [(c.reshape(-1, 2).astype(np.float64) + 0.5).reshape(-1).round(2).tolist()
             for c in contours if len(c) >= 3]
    if not polys:
        x1, y1, x2, y2 = (float(v) for v in box)
        polys = [[x1, y1, x2, y1, x2, y2, x1, y2]]
    return polys


# ----------------------------------------------------------------------------- shapes
# Range of each shape's proportion: a star's inner radius and a cross's arm half-width,
# as fractions of the outer radius.
_PROPORTION = {"star": (0.38, 0.5), "cross": (0.28, 0.38)}


def _outline(kind: str, extent: float, angle: float, ratio: float) -> np.ndarray:
    """Vertices ``float[K, 2]`` (x, y) of a polygon shape around the origin, rotated."""
    r = extent / 2
    if kind == "square":
        pts = np.array([[-r, -r], [r, -r], [r, r], [-r, r]])
    elif kind == "triangle":
        t = np.deg2rad([-90, 30, 150])
        pts = r * np.stack([np.cos(t), np.sin(t)], 1)
    elif kind == "star":
        inner = r * ratio
        t = np.deg2rad(-90 + 36 * np.arange(10))
        radius = np.where(np.arange(10) % 2 == 0, r, inner)
        pts = radius[:, None] * np.stack([np.cos(t), np.sin(t)], 1)
    elif kind == "cross":
        a = r * ratio  # half the arm width
        pts = np.array([[-a, -r], [a, -r], [a, -a], [r, -a], [r, a], [a, a], [a, r],
                        [-a, r], [-a, a], [-r, a], [-r, -a], [-a, -a]])
    else:
        raise ValueError(f"unknown shape {kind!r}; known: {SHAPE_CLASSES}")
    c, s = np.cos(angle), np.sin(angle)
    return pts @ np.array([[c, s], [-s, c]])


def _coverage(kind: str, extent: float, angle: float, ratio: float, centre: np.ndarray,
              shape: tuple[int, int]) -> np.ndarray:
    """Anti-aliased coverage ``float32[H, W]`` in 0..1 of one shape."""
    canvas = np.zeros(shape, np.uint8)
    if kind == "circle":
        c = tuple(int(v) for v in np.round(centre * _ONE))
        cv2.circle(canvas, c, int(round(extent / 2 * _ONE)), 255, -1, cv2.LINE_AA, _SHIFT)
    else:
        pts = np.round((_outline(kind, extent, angle, ratio) + centre) * _ONE).astype(np.int32)
        cv2.fillPoly(canvas, [pts], 255, cv2.LINE_AA, _SHIFT)
    return canvas.astype(np.float32) / 255


def _half_extent(kind: str, extent: float, angle: float, ratio: float) -> tuple[float, float]:
    """Half the width and height of the shape's nominal (unrasterised) box."""
    if kind == "circle":
        return extent / 2, extent / 2
    pts = _outline(kind, extent, angle, ratio)
    return float(np.abs(pts[:, 0]).max()), float(np.abs(pts[:, 1]).max())


# ----------------------------------------------------------------------------- backgrounds
def _random_color(rng: np.random.Generator) -> np.ndarray:
    return rng.uniform(0, 255, 3)


def _bg_solid(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    return np.broadcast_to(_random_color(rng), (h, w, 3)).astype(np.float32)


def _bg_gradient(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    theta = rng.uniform(0, 2 * np.pi)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    t = xs * np.cos(theta) + ys * np.sin(theta)
    t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
    c0, c1 = _random_color(rng), _random_color(rng)
    return (c0 + t[..., None] * (c1 - c0)).astype(np.float32)


def _bg_blobs(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    grid = rng.uniform(0, 255, (int(rng.integers(2, 6)), int(rng.integers(2, 6)), 3))
    return cv2.resize(grid.astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)


def _bg_texture(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    base = _random_color(rng)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    theta = rng.uniform(0, np.pi)
    period = rng.uniform(6, 40)
    wave = np.sin(2 * np.pi * (xs * np.cos(theta) + ys * np.sin(theta)) / period)
    if rng.random() < 0.5:  # a checker-like weave
        wave = wave * np.sin(2 * np.pi * (-xs * np.sin(theta) + ys * np.cos(theta)) / period)
    img = base + rng.uniform(10, 35) * wave[..., None] * rng.choice([-1, 1], 3)
    img = np.ascontiguousarray(img.astype(np.float32))
    for _ in range(int(rng.integers(0, 8))):  # a few faint lines
        p0 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        p1 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        color = tuple(float(v) for v in np.clip(base + rng.uniform(-50, 50, 3), 0, 255))
        cv2.line(img, p0, p1, color, int(rng.integers(1, 3)), cv2.LINE_AA)
    return img


_BACKGROUNDS: tuple[Callable[[np.random.Generator, int, int], np.ndarray], ...] = (
    _bg_solid, _bg_gradient, _bg_blobs, _bg_texture)


def _background(rng: np.random.Generator, h: int, w: int, noise_std: float) -> np.ndarray:
    img = _BACKGROUNDS[int(rng.integers(len(_BACKGROUNDS)))](rng, h, w)
    sigma = rng.uniform(0, noise_std)
    if sigma > 0:
        img = img + rng.normal(0, sigma, img.shape).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.float32)


# ----------------------------------------------------------------------------- scenes
def _overlap(box: np.ndarray, others: list[np.ndarray]) -> float:
    """Largest intersection of ``box`` with one of ``others`` over the smaller area."""
    worst = 0.0
    area = (box[2] - box[0]) * (box[3] - box[1])
    for o in others:
        iw = min(box[2], o[2]) - max(box[0], o[0])
        ih = min(box[3], o[3]) - max(box[1], o[1])
        if iw > 0 and ih > 0:
            smaller = min(area, (o[2] - o[0]) * (o[3] - o[1]))
            worst = max(worst, iw * ih / smaller)
    return worst


def _pick_color(rng: np.random.Generator, under: np.ndarray, min_contrast: float) -> np.ndarray:
    """A colour at least ``min_contrast`` from ``under`` (the farthest of 8 tries if none)."""
    best, best_d = None, -1.0
    for _ in range(8):
        color = np.round(_random_color(rng))
        d = float(np.linalg.norm(color - under))
        if d >= min_contrast:
            return color
        if d > best_d:
            best, best_d = color, d
    return best


def render_scene(rng: np.random.Generator, settings: ShapesSettings | None = None) -> Scene:
    """Draw one image of shapes.

    Args:
        rng: the random generator; the scene depends only on its state.
        settings: what to draw (defaults of :class:`ShapesSettings` if ``None``).

    Returns:
        The :class:`Scene`, with shapes that ended up wholly hidden left out.
    """
    s = settings or ShapesSettings()
    h = int(rng.integers(s.min_size, s.max_size + 1))
    w = int(rng.integers(s.min_size, s.max_size + 1))
    bg = _background(rng, h, w, s.noise_std)
    short = min(h, w)
    lo, hi = np.log(s.min_object_frac * short), np.log(s.max_object_frac * short)

    placed: list[tuple[int, np.ndarray, np.ndarray]] = []  # (label, coverage, colour)
    nominal: list[np.ndarray] = []
    for _ in range(int(rng.integers(s.min_objects, s.max_objects + 1))):
        for _attempt in range(20):
            label = int(rng.integers(len(s.classes)))
            kind = s.classes[label]
            extent = float(np.exp(rng.uniform(lo, hi)))
            angle = float(rng.uniform(-np.pi / 6, np.pi / 6))
            ratio = float(rng.uniform(*_PROPORTION.get(kind, (0, 0))))
            hw, hh = _half_extent(kind, extent, angle, ratio)
            if 2 * hw + 2 > w or 2 * hh + 2 > h:
                continue
            centre = np.array([rng.uniform(hw + 1, w - hw - 1), rng.uniform(hh + 1, h - hh - 1)])
            box = np.array([centre[0] - hw, centre[1] - hh, centre[0] + hw, centre[1] + hh])
            if _overlap(box, nominal) > s.max_overlap:
                continue
            cover = _coverage(kind, extent, angle, ratio, centre, (h, w))
            x0, y0, x1, y1 = (int(v) for v in np.round(box))
            under = bg[y0:y1 + 1, x0:x1 + 1].reshape(-1, 3).mean(0)
            placed.append((label, cover, _pick_color(rng, under, s.min_contrast)))
            nominal.append(box)
            break

    img = bg.copy()
    for _, cover, color in placed:
        img += cover[..., None] * (color.astype(np.float32) - img)
    boxes, labels, areas, colors, polygons = [], [], [], [], []
    hidden = np.ones((h, w), np.float32)  # product of (1 - a) of the shapes drawn later
    for label, cover, color in reversed(placed):
        visible = cover * hidden >= 0.5
        hidden *= 1 - cover
        ys, xs = np.nonzero(visible)
        if len(xs) == 0:
            continue
        boxes.append([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
        polygons.append(_mask_polygons(visible, boxes[-1]))
        labels.append(label)
        areas.append(len(xs))
        colors.append(color)
    order = slice(None, None, -1)  # back to drawing order
    return Scene(
        image=np.round(img).astype(np.uint8),
        background=np.round(bg).astype(np.uint8),
        boxes=np.array(boxes[order], np.float32).reshape(-1, 4),
        labels=np.array(labels[order], np.int64),
        areas=np.array(areas[order], np.float32),
        colors=np.array(colors[order], np.uint8).reshape(-1, 3),
        polygons=polygons[order],
    )


# ----------------------------------------------------------------------------- data set
def _scene_rng(seed: int, split: str, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, SPLITS.index(split), index])


def make_split(out_dir: str | os.PathLike, split: str, num_images: int, seed: int = 0,
               settings: ShapesSettings | None = None, jpeg_quality: int = 95) -> dict:
    """Write ``num_images`` images to ``out_dir/images/`` and return their COCO dict.

    Args:
        out_dir: the data set folder.
        split: ``'train'`` or ``'val'`` (names the files and picks the random stream).
        num_images: how many images.
        seed: the data set's seed.
        settings: what to draw.
        jpeg_quality: JPEG quality (0-100).

    Returns:
        The COCO dict (``images``, ``annotations``, ``categories``); boxes ``[x, y, w, h]``,
        polygon ``segmentation`` of each shape, category ids start at 1 in
        ``settings.classes`` order.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    s = settings or ShapesSettings()
    img_dir = osp.join(out_dir, "images")
    os.makedirs(img_dir, exist_ok=True)
    images, annotations = [], []
    for i in range(num_images):
        scene = render_scene(_scene_rng(seed, split, i), s)
        name = f"{split}_{i:06d}.jpg"
        path = osp.join(img_dir, name)
        if not cv2.imwrite(path, scene.image, [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality]):
            raise OSError(f"cannot write image {path}")
        h, w = scene.image.shape[:2]
        images.append(dict(id=i + 1, file_name=name, width=w, height=h))
        for box, label, area, polys in zip(scene.boxes, scene.labels, scene.areas,
                                           scene.polygons):
            x1, y1, x2, y2 = (int(v) for v in box)
            annotations.append(dict(
                id=len(annotations) + 1, image_id=i + 1, category_id=int(label) + 1,
                bbox=[x1, y1, x2 - x1, y2 - y1], area=float(area), iscrowd=0,
                segmentation=polys))
    categories = [dict(id=i + 1, name=name, supercategory="shape")
                  for i, name in enumerate(s.classes)]
    info = dict(description=f"detbox synthetic shapes, {split} split, seed {seed}",
                version="1.0")
    return dict(info=info, licenses=[], images=images, annotations=annotations,
                categories=categories)


def make_shapes_dataset(out_dir: str | os.PathLike, num_train: int = 500, num_val: int = 100,
                        seed: int = 0, settings: ShapesSettings | None = None,
                        jpeg_quality: int = 95) -> dict[str, str]:
    """Write a shapes data set in COCO layout.

    ``out_dir/images/{train,val}_NNNNNN.jpg`` and ``out_dir/annotations/{train,val}.json``.

    Returns:
        ``{'train': path, 'val': path}`` of the annotation files.
    """
    ann_dir = osp.join(out_dir, "annotations")
    os.makedirs(ann_dir, exist_ok=True)
    paths = {}
    for split, count in zip(SPLITS, (num_train, num_val)):
        coco = make_split(out_dir, split, count, seed, settings, jpeg_quality)
        paths[split] = osp.join(ann_dir, f"{split}.json")
        with open(paths[split], "w") as f:
            json.dump(coco, f)
        logger.info("shapes %s: %d images, %d objects -> %s", split, len(coco["images"]),
                    len(coco["annotations"]), paths[split])
    return paths
