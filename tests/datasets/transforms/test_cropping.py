import numpy as np
import pytest

from detbox.datasets.transforms import CutOut, MinIoURandomCrop, RandomCrop
from tests.datasets.transforms.transforms_golden_cases import make_results


def results_of(h, w, boxes, labels=None):
    boxes = np.array(boxes, np.float32).reshape(-1, 4)
    img = np.arange(h * w * 3, dtype=np.int64).reshape(h, w, 3).astype(np.uint8)
    return dict(img=img, img_shape=img.shape, img_fields=["img"], bbox_fields=["gt_bboxes"],
                gt_bboxes=boxes,
                gt_labels=np.arange(len(boxes)) if labels is None else np.array(labels))


@pytest.fixture
def max_offsets(monkeypatch):
    """np.random.randint(lo, hi) -> hi - 1: crops take their largest offsets."""
    monkeypatch.setattr(np.random, "randint", lambda lo, hi=None: (hi if hi else lo) - 1)


def test_random_crop_drops_boxes_that_leave_by_hand(max_offsets):
    r = results_of(10, 20, [[0, 0, 4, 4], [13, 6, 15, 9], [10, 0, 19, 7]], labels=[7, 8, 9])
    img = r["img"].copy()
    out = RandomCrop(crop_size=(5, 8))(r)
    # offsets: h = 10 - 5 = 5, w = 20 - 8 = 12
    assert out["img"].shape == (5, 8, 3) == out["img_shape"]
    assert np.array_equal(out["img"], img[5:10, 12:20])
    # box 0 ends left of / above the crop -> dropped; box 2 is clipped at 0
    assert out["gt_bboxes"].tolist() == [[1, 1, 3, 4], [0, 0, 7, 2]]
    assert out["gt_labels"].tolist() == [8, 9]


def test_random_crop_without_boxes_left(max_offsets):
    r = results_of(10, 20, [[0, 0, 4, 4]])
    assert RandomCrop(crop_size=(5, 8))(r) is None
    r = results_of(10, 20, [[0, 0, 4, 4]])
    out = RandomCrop(crop_size=(5, 8), allow_negative_crop=True)(r)
    assert out["gt_bboxes"].shape == (0, 4) and out["gt_labels"].shape == (0,)


def test_random_crop_sizes():
    np.random.seed(0)
    r = results_of(10, 20, [[0, 0, 20, 10]])
    assert RandomCrop((30, 30))(dict(r))["img"].shape == (10, 20, 3)  # capped at the image
    assert RandomCrop((0.5, 0.25), crop_type="relative")(dict(r))["img"].shape == (5, 5, 3)
    for _ in range(10):
        h, w = RandomCrop((4, 8), crop_type="absolute_range")(dict(r))["img"].shape[:2]
        assert 4 <= h <= 8 and 4 <= w <= 8
        h, w = RandomCrop((0.5, 0.5), crop_type="relative_range")(dict(r))["img"].shape[:2]
        assert 5 <= h <= 10 and 10 <= w <= 20
    with pytest.raises(ValueError, match="crop_type"):
        RandomCrop((1, 1), crop_type="centre")
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        RandomCrop((2, 0.5), crop_type="relative")


def test_min_iou_crop_keeps_centred_boxes():
    np.random.seed(0)
    for seed in range(20):
        r = make_results(seed, h=40, w=48)
        boxes, labels = r["gt_bboxes"].copy(), r["gt_labels"].copy()
        out = MinIoURandomCrop()(r)
        h, w = out["img"].shape[:2]
        assert out["img_shape"] == out["img"].shape
        b = out["gt_bboxes"]
        assert (b[:, 0::2] >= 0).all() and (b[:, 0::2] <= w).all()
        assert (b[:, 1::2] >= 0).all() and (b[:, 1::2] <= h).all()
        assert len(b) == len(out["gt_labels"]) and set(out["gt_labels"]) <= set(labels)
        if (h, w) == (40, 48):  # mode 1: unchanged
            assert np.array_equal(b, boxes)


def test_cutout_fills_holes_by_hand(monkeypatch):
    r = results_of(10, 10, [[0, 0, 1, 1]])
    r["img"][:] = 5
    draws = iter([1, 2, 3, 0])  # n_holes=1, x1=2, y1=3, candidate 0
    monkeypatch.setattr(np.random, "randint", lambda *a, **k: next(draws))
    out = CutOut(n_holes=1, cutout_shape=(4, 2), fill_in=(9, 9, 9))(r)
    assert (out["img"][3:5, 2:6] == 9).all()
    assert (out["img"] == 9).sum() == 2 * 4 * 3
    with pytest.raises(ValueError, match="Either"):
        CutOut(1)
