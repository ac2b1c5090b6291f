"""``detbox.visualization``: drawing boxes and browsing a dataset's training samples."""

import cv2
import numpy as np
import pytest

import detbox.datasets
from detbox.datasets.transforms import Compose
from detbox.visualization import (
    _skip_pipeline_steps,
    browse_dataset,
    get_palette,
    imshow_det_bboxes,
    sample_to_image,
)

NORM = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
TRAIN_PIPELINE = [
    dict(type="Resize", img_scale=(60, 40), keep_ratio=True),
    dict(type="RandomFlip", flip_ratio=0.0),
    dict(type="Normalize", **NORM),
    dict(type="Pad", size_divisor=32),
    dict(type="DefaultFormatBundle"),
    dict(type="Collect", keys=["img", "gt_bboxes", "gt_labels"]),
]


def loaded(name="a.jpg"):
    img = np.zeros((20, 30, 3), np.uint8)
    img[:, :15] = (10, 100, 200)  # BGR
    img[:, 15:] = (250, 50, 0)
    return dict(filename=name, ori_filename=name, img=img, img_shape=img.shape,
                ori_shape=img.shape, img_fields=["img"], bbox_fields=["gt_bboxes"],
                gt_bboxes=np.array([[2, 3, 12, 15]], np.float32), gt_labels=np.array([1]))


def test_get_palette():
    assert get_palette("red", 2) == [(255, 0, 0)] * 2
    assert get_palette((1, 2, 3), 2) == [(1, 2, 3)] * 2
    assert get_palette([(1, 2, 3), (4, 5, 6)], 2) == [(1, 2, 3), (4, 5, 6)]
    assert get_palette(None, 3) == get_palette("random", 3) and len(get_palette(None, 3)) == 3
    with pytest.raises(ValueError, match="palette"):
        get_palette("chartreuse-ish", 2)


def test_imshow_draws_boxes_in_class_colours(tmp_path):
    img = np.zeros((40, 50, 3), np.uint8)
    boxes = np.array([[5, 20, 30, 35, 0.9], [35, 2, 45, 8, 0.1]], np.float32)
    out = imshow_det_bboxes(img, boxes, np.array([1, 0]), class_names=["a", "b"],
                            bbox_color=[(255, 0, 0), (0, 255, 0)], score_thr=0.5,
                            thickness=1, show=False, out_file=str(tmp_path / "x" / "o.png"))
    assert out[35, 15].tolist() == [0, 255, 0]  # bottom edge of the box, class 1 green (BGR)
    assert out[5, 45].tolist() == [0, 0, 0]  # the low-score box is not drawn
    assert img.sum() == 0  # input untouched
    assert np.array_equal(cv2.imread(str(tmp_path / "x" / "o.png")), out)
    with pytest.raises(ValueError, match=r"\[N, 4\]"):
        imshow_det_bboxes(img, np.zeros((2, 3)), np.zeros(2, int), show=False)


def test_sample_to_image_undoes_the_training_pipeline():
    sample = Compose(TRAIN_PIPELINE)(loaded())
    img, boxes, labels = sample_to_image(sample)
    assert img.shape == (64, 64, 3) and img.dtype == np.uint8  # padded size
    want = cv2.resize(loaded()["img"], (60, 40))
    assert np.abs(img[:40, :60].astype(int) - want).max() <= 1
    assert boxes.tolist() == [[4, 6, 24, 30]] and labels.tolist() == [1]
    raw_img, raw_boxes, _ = sample_to_image(loaded())  # before any formatting
    assert np.array_equal(raw_img, loaded()["img"]) and raw_boxes.tolist() == [[2, 3, 12, 15]]


def test_skip_pipeline_steps_follows_v2_rules():
    cfg = dict(type="RepeatDataset", times=2,
               dataset=dict(type="CocoDataset", pipeline=[dict(type="Normalize"),
                                                          dict(type="Resize")]))
    _skip_pipeline_steps(cfg, ["Normalize"])
    assert cfg["dataset"]["pipeline"] == [dict(type="Resize")]
    mix = dict(type="MultiImageMixDataset", pipeline=[dict(type="Mosaic"), dict(type="Pad")],
               dataset=dict(type="CocoDataset", pipeline=[dict(type="Pad")]))
    _skip_pipeline_steps(mix, ["Pad"])
    assert mix["pipeline"] == [dict(type="Mosaic")]  # the mix dataset's own pipeline only
    assert mix["dataset"]["pipeline"] == [dict(type="Pad")]


class FakeDataset:
    CLASSES = ("cat", "dog")
    PALETTE = [(255, 0, 0), (0, 0, 255)]

    def __init__(self, pipeline):
        self.pipeline_types = [t["type"] for t in pipeline]
        self.pipeline = Compose(pipeline)

    def __len__(self):
        return 3

    def __getitem__(self, i):
        return self.pipeline(loaded(f"img{i}.jpg"))


@pytest.mark.parametrize("skip, kept", [
    (("DefaultFormatBundle", "Normalize", "Collect"), ["Resize", "RandomFlip", "Pad"]),
    ((), [t["type"] for t in TRAIN_PIPELINE]),
])
def test_browse_dataset_writes_drawn_samples(tmp_path, monkeypatch, skip, kept):
    built = []

    def fake_build(cfg):
        built.append(FakeDataset(cfg["pipeline"]))
        return built[-1]

    monkeypatch.setattr(detbox.datasets, "build_dataset", fake_build)
    cfg = dict(type="CocoDataset", pipeline=TRAIN_PIPELINE)
    written = browse_dataset(cfg, str(tmp_path), skip, max_images=2)
    assert built[0].pipeline_types == kept
    assert cfg["pipeline"] == TRAIN_PIPELINE  # the caller's config is not modified
    assert written == [str(tmp_path / "img0.jpg"), str(tmp_path / "img1.jpg")]
    drawn = cv2.imread(written[0])
    assert drawn.shape == (64, 64, 3)
    # the box's left edge (x = 4) in the dog colour, BGR (255, 0, 0), blurred by JPEG
    b, g, r = drawn[15, 4].astype(int)
    assert b > 100 and b > g + 50 and b > r + 50
