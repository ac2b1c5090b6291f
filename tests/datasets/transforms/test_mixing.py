import numpy as np
import pytest

from detbox.datasets.transforms import MixUp, Mosaic
from tests.datasets.transforms.transforms_golden_cases import make_mix_results, make_results


def solid(h, w, value, boxes, labels):
    return dict(img=np.full((h, w, 3), value, np.uint8),
                gt_bboxes=np.array(boxes, np.float32).reshape(-1, 4),
                gt_labels=np.array(labels, np.int64))


def test_mosaic_by_hand(monkeypatch):
    # centre at (1.0 * 10, 1.0 * 10) of a 20 x 20 canvas; four 10 x 10 images, one box each
    monkeypatch.setattr(np.random, "uniform", lambda *a: 1.0)
    r = solid(10, 10, 1, [[0, 0, 5, 5]], [1])
    r["mix_results"] = [solid(5, 10, 2, [[5, 0, 10, 5]], [2]),  # resized x1 to fit 10 x 10
                        solid(10, 10, 3, [[0, 5, 5, 10]], [3]),
                        solid(10, 10, 4, [[2, 2, 8, 8]], [4])]
    out = Mosaic(img_scale=(10, 10))(r)
    img = out["img"]
    assert img.shape == (20, 20, 3) == out["img_shape"]
    assert (img[:10, :10] == 1).all() and (img[10:, :10] == 3).all() and (img[10:, 10:] == 4).all()
    assert (img[5:10, 10:] == 2).all() and (img[:5, 10:] == 114).all()  # pad above the 10x5
    assert out["gt_labels"].tolist() == [1, 2, 3, 4]
    assert out["gt_bboxes"].tolist() == [[0, 0, 5, 5], [15, 5, 20, 10], [0, 15, 5, 20],
                                         [12, 12, 18, 18]]


@pytest.mark.parametrize("seed", range(8))
def test_mosaic_boxes_inside_and_labels_aligned(seed):
    np.random.seed(seed)
    r = make_mix_results(seed, 3)
    total = len(r["gt_bboxes"]) + sum(len(m["gt_bboxes"]) for m in r["mix_results"])
    out = Mosaic(img_scale=(24, 30))(r)
    h, w = out["img"].shape[:2]
    assert (h, w) == (48, 60)
    b = out["gt_bboxes"]
    assert len(b) == len(out["gt_labels"]) <= total
    assert (b[:, 0::2] >= 0).all() and (b[:, 0::2] <= w).all()
    assert (b[:, 1::2] >= 0).all() and (b[:, 1::2] <= h).all()
    assert (b[:, 2] >= b[:, 0]).all() and (b[:, 3] >= b[:, 1]).all()


def test_mosaic_needs_mix_results_and_index_count():
    with pytest.raises(KeyError, match="MultiImageMixDataset"):
        Mosaic()(make_results(0))
    np.random.seed(0)
    idx = Mosaic().get_indexes(list(range(7)))
    assert len(idx) == 3 and all(0 <= i < 7 for i in idx)
    assert Mosaic(prob=0.0)(make_results(0))["img"].shape == (24, 32, 3)


def test_mixup_by_hand(monkeypatch):
    # jitter 1.0, no flip; the other image (10 x 10) fits the 10 x 10 canvas unscaled
    draws = iter([1.0, 0.9])
    monkeypatch.setattr(np.random, "uniform", lambda *a: next(draws))
    r = solid(10, 10, 100, [[0, 0, 4, 4]], [1])
    r["mix_results"] = [solid(10, 10, 200, [[5, 5, 9, 9]], [2])]
    out = MixUp(img_scale=(10, 10))(r)
    assert out["img"].dtype == np.uint8 and (out["img"] == 150).all()
    assert out["gt_bboxes"].tolist() == [[0, 0, 4, 4], [5, 5, 9, 9]]
    assert out["gt_labels"].tolist() == [1, 2]


@pytest.mark.parametrize("seed", range(8))
def test_mixup_boxes_inside(seed):
    np.random.seed(seed)
    r = make_mix_results(seed, 1)
    n_own = len(r["gt_bboxes"])
    out = MixUp(img_scale=(24, 30))(r)
    h, w = out["img"].shape[:2]
    assert (h, w) == (24, 32)
    b = out["gt_bboxes"]
    assert len(b) == len(out["gt_labels"]) >= n_own
    assert (b[:, 0::2] >= 0).all() and (b[:, 0::2] <= w).all()
    assert (b[:, 1::2] >= 0).all() and (b[:, 1::2] <= h).all()


def test_mixup_get_indexes_prefers_images_with_boxes():
    class DS:
        def __len__(self):
            return 10

        def get_ann_info(self, i):
            return dict(bboxes=np.zeros((1 if i == 7 else 0, 4)))

    np.random.seed(0)
    assert MixUp(max_iters=200).get_indexes(DS()) == 7
    r = make_results(0)
    r["mix_results"] = [dict(make_results(1), gt_bboxes=np.zeros((0, 4), np.float32))]
    img = r["img"].copy()
    assert np.array_equal(MixUp()(r)["img"], img)  # nothing to mix in
