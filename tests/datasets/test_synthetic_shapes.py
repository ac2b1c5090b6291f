"""The synthetic shapes generator: determinism, tight boxes, COCO output that loads."""

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest

from detbox.datasets import CocoDataset
from detbox.datasets.synthetic_shapes import (
    SHAPE_CLASSES,
    ShapesSettings,
    make_shapes_dataset,
    render_scene,
)
from tests.conftest import REPO

SMALL = ShapesSettings(min_size=64, max_size=112)


def _box_of(mask):
    ys, xs = np.nonzero(mask)
    return np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])


def _changed(scene, levels=5):
    """Pixels the shapes changed by more than ``levels`` in some channel.

    OpenCV's anti-aliasing leaves a faint fringe: coverage up to 4/255 one pixel beyond the
    half-covered pixels (measured over 3,000 random shapes; none two pixels beyond), so a
    change of at most 4 levels, plus 1 for rounding.
    """
    diff = np.abs(scene.image.astype(np.int16) - scene.background.astype(np.int16))
    return diff.max(axis=2) > levels


@pytest.fixture(scope="module")
def dataset_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("shapes")
    make_shapes_dataset(out, num_train=12, num_val=5, seed=3, settings=SMALL)
    return out


def test_same_seed_same_files_other_seed_other_files(dataset_dir, tmp_path):
    make_shapes_dataset(tmp_path / "a", num_train=12, num_val=5, seed=3, settings=SMALL)
    make_shapes_dataset(tmp_path / "b", num_train=12, num_val=5, seed=4, settings=SMALL)
    for split in ("train", "val"):
        ref = (dataset_dir / "annotations" / f"{split}.json").read_text()
        assert (tmp_path / "a" / "annotations" / f"{split}.json").read_text() == ref
        assert (tmp_path / "b" / "annotations" / f"{split}.json").read_text() != ref
    for path in (dataset_dir / "images").iterdir():
        assert (tmp_path / "a" / "images" / path.name).read_bytes() == path.read_bytes()


def test_counts_ids_and_fields(dataset_dir):
    assert len(list((dataset_dir / "images").glob("*.jpg"))) == 17
    for split, count in (("train", 12), ("val", 5)):
        coco = json.loads((dataset_dir / "annotations" / f"{split}.json").read_text())
        assert [c["name"] for c in coco["categories"]] == list(SHAPE_CLASSES)
        assert [c["id"] for c in coco["categories"]] == [1, 2, 3, 4, 5]
        assert [im["id"] for im in coco["images"]] == list(range(1, count + 1))
        ann_ids = [a["id"] for a in coco["annotations"]]
        assert ann_ids == list(range(1, len(ann_ids) + 1))
        sizes = {}
        for im in coco["images"]:
            assert im["file_name"].startswith(f"{split}_")
            img = cv2.imread(str(dataset_dir / "images" / im["file_name"]))
            assert img.shape == (im["height"], im["width"], 3)
            assert 64 <= im["width"] <= 112 and 64 <= im["height"] <= 112
            sizes[im["id"]] = (im["width"], im["height"])
        per_image = np.bincount([a["image_id"] for a in coco["annotations"]], minlength=count + 1)
        assert per_image[1:].min() >= 1 and per_image.max() <= 6
        for a in coco["annotations"]:
            x, y, w, h = a["bbox"]
            iw, ih = sizes[a["image_id"]]
            assert a["iscrowd"] == 0 and 1 <= a["category_id"] <= 5
            assert x >= 0 and y >= 0 and x + w <= iw and y + h <= ih and w >= 1 and h >= 1
            assert 0 < a["area"] <= w * h


def test_variety_of_sizes_classes_and_aspect_ratios():
    rng = np.random.default_rng(0)
    rel, labels, aspects = [], [], []
    for _ in range(60):
        scene = render_scene(rng)
        h, w = scene.image.shape[:2]
        aspects.append(w / h)
        wh = scene.boxes[:, 2:] - scene.boxes[:, :2]
        rel.extend(wh.max(1) / min(h, w))
        labels.extend(scene.labels)
    assert np.bincount(labels, minlength=5).min() >= 15  # every class drawn often
    assert min(rel) < 0.13 and max(rel) > 0.45  # small to large shapes
    assert min(aspects) < 0.75 and max(aspects) > 1.33


@pytest.mark.parametrize("kind", SHAPE_CLASSES)
def test_single_shape_box_is_tight_around_its_pixels(kind):
    """The box holds every pixel the shape reached and every pixel it covers by half.

    The coverage of a pixel is read back from the image alone: ``(img - bg) / (c - bg)``
    projected on ``c - bg``, where the shape's colour ``c`` differs from the background by
    at least 40 (so uint8 rounding errs by under 2%).
    """
    settings = ShapesSettings(min_size=48, max_size=96, min_objects=1, max_objects=1,
                              classes=(kind,))
    for seed in range(12):
        scene = render_scene(np.random.default_rng(seed), settings)
        assert len(scene.boxes) == 1 and scene.labels.tolist() == [0]
        box = scene.boxes[0].astype(int)
        bg = scene.background.astype(np.float32)
        diff = scene.colors[0].astype(np.float32) - bg  # [H, W, 3]
        norm2 = (diff ** 2).sum(2)
        alpha = ((scene.image - bg) * diff).sum(2) / np.maximum(norm2, 1)
        reliable = norm2 >= 40 ** 2
        touched = _box_of(_changed(scene))
        # the box lies within the visibly touched pixels, missing at most a 1-px AA fringe
        assert (touched[:2] <= box[:2]).all() and (box[:2] <= touched[:2] + 1).all(), seed
        assert (touched[2:] - 1 <= box[2:]).all() and (box[2:] <= touched[2:]).all(), seed
        # every pixel covered well over half is inside the box
        covered = _box_of(reliable & (alpha >= 0.55))
        assert (box[:2] <= covered[:2]).all() and (covered[2:] <= box[2:]).all(), seed
        # the area counts the half-covered pixels
        assert (reliable & (alpha >= 0.55)).sum() <= scene.areas[0] <= _changed(scene).sum()


def test_multi_shape_boxes_cover_all_drawn_pixels_and_touch_them():
    for seed in range(20):
        scene = render_scene(np.random.default_rng(seed), SMALL)
        changed = _changed(scene)
        inside = np.zeros_like(changed)
        for x1, y1, x2, y2 in scene.boxes.astype(int):
            inside[max(y1 - 1, 0):y2 + 1, max(x1 - 1, 0):x2 + 1] = True
            # each edge row/column of a box holds drawn pixels
            assert changed[y1, x1:x2].any() and changed[y2 - 1, x1:x2].any(), seed
            assert changed[y1:y2, x1].any() and changed[y1:y2, x2 - 1].any(), seed
        assert not (changed & ~inside).any(), seed


def test_coco_dataset_loads_the_output(dataset_dir):
    ann = dataset_dir / "annotations" / "train.json"
    pipeline = [dict(type="LoadImageFromFile"), dict(type="LoadAnnotations", with_bbox=True)]
    ds = CocoDataset(ann_file=str(ann), pipeline=pipeline, classes=SHAPE_CLASSES,
                     img_prefix=str(dataset_dir / "images"))
    coco = json.loads(ann.read_text())
    assert len(ds) == 12 and ds.CLASSES == SHAPE_CLASSES
    sample = ds[0]
    first = [a for a in coco["annotations"] if a["image_id"] == coco["images"][0]["id"]]
    expected = np.array([[x, y, x + w, y + h] for x, y, w, h in (a["bbox"] for a in first)])
    np.testing.assert_array_equal(sample["gt_bboxes"], expected)
    np.testing.assert_array_equal(sample["gt_labels"], [a["category_id"] - 1 for a in first])
    assert sample["img"].shape[:2] == (coco["images"][0]["height"], coco["images"][0]["width"])
    # the ground truth, given back as detections, scores perfectly under COCO evaluation
    results = []
    for i in range(len(ds)):
        info = ds.get_ann_info(i)
        results.append([np.hstack([info["bboxes"][info["labels"] == c],
                                   np.ones(((info["labels"] == c).sum(), 1), np.float32)])
                        for c in range(5)])
    metrics = ds.evaluate(results, metric="bbox")
    assert metrics["bbox_mAP"] == pytest.approx(1.0)


def test_settings_are_checked():
    with pytest.raises(ValueError, match="hexagon"):
        ShapesSettings(classes=("circle", "hexagon"))
    with pytest.raises(ValueError, match="min_size"):
        ShapesSettings(min_size=300, max_size=200)


def test_cli_writes_the_layout(tmp_path):
    out = tmp_path / "shapes"
    result = subprocess.run(
        [sys.executable, str(REPO / "tools/misc/make_shapes.py"), "--out-dir", str(out),
         "--num-train", "4", "--num-val", "2", "--min-size", "64", "--max-size", "80",
         "--classes", "circle", "star"], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stderr
    train = json.loads((out / "annotations" / "train.json").read_text())
    val = json.loads((out / "annotations" / "val.json").read_text())
    assert len(train["images"]) == 4 and len(val["images"]) == 2
    assert [c["name"] for c in train["categories"]] == ["circle", "star"]
    assert sorted(p.name for p in (out / "images").iterdir()) == [
        "train_000000.jpg", "train_000001.jpg", "train_000002.jpg", "train_000003.jpg",
        "val_000000.jpg", "val_000001.jpg"]
