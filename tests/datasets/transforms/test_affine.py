import numpy as np
import pytest

from detbox.datasets.transforms import Expand, RandomAffine, RandomShift
from tests.datasets.transforms.transforms_golden_cases import make_results


def results_of(h, w, boxes):
    boxes = np.array(boxes, np.float32).reshape(-1, 4)
    return dict(img=np.full((h, w, 3), 50, np.uint8), img_shape=(h, w, 3), img_fields=["img"],
                bbox_fields=["gt_bboxes"], gt_bboxes=boxes, gt_labels=np.arange(len(boxes)))


def still(**kwargs):
    return RandomAffine(max_rotate_degree=0, max_translate_ratio=0, max_shear_degree=0,
                        **kwargs)


def test_affine_identity():
    r = make_results(0)
    img, boxes = r["img"].copy(), r["gt_bboxes"].copy()
    out = still(scaling_ratio_range=(1, 1))(r)
    assert np.array_equal(out["img"], img)
    np.testing.assert_allclose(out["gt_bboxes"], boxes, atol=1e-4)


def test_affine_scaling_by_hand():
    r = results_of(10, 20, [[1, 1, 3, 2], [8, 2, 14, 6], [15, 6, 19, 9]])
    out = still(scaling_ratio_range=(2, 2))(r)
    assert out["img"].shape == (10, 20, 3)
    # doubled about the origin, clipped to 20 x 10; the last box lands outside and is dropped
    np.testing.assert_allclose(out["gt_bboxes"], [[2, 2, 6, 4], [16, 4, 20, 10]], atol=1e-4)
    assert out["gt_labels"].tolist() == [0, 1]
    assert (out["img"][:, :] == 50).all()  # the scaled-up image covers the output


def test_affine_border_and_filter():
    r = results_of(10, 20, [[1, 1, 3, 2], [2, 2, 18, 8]])
    out = still(scaling_ratio_range=(0.5, 0.5), border=(5, 10), skip_filter=False,
                min_bbox_size=2)(r)
    assert out["img"].shape == (20, 40, 3)
    assert (out["img"][15:, :] == 114).all()  # uncovered -> border_val
    # box 0 shrinks to 1 x 0.5 < min_bbox_size and is filtered
    np.testing.assert_allclose(out["gt_bboxes"], [[1, 1, 9, 4]], atol=1e-4)


def test_random_shift_by_hand(monkeypatch):
    r = results_of(10, 20, [[0, 0, 4, 4], [5, 5, 10, 9]])
    r["img"][0, 0] = 200
    monkeypatch.setattr(np.random, "random", lambda: 0.0)
    draws = iter([3, -2])  # dx = 3, dy = -2
    monkeypatch.setattr(np.random, "randint", lambda *a: next(draws))
    out = RandomShift(shift_ratio=0.5)(r)
    # box 0 -> [3, -2, 7, 2] -> clipped [3, 0, 7, 2]: h = 2 > 1 kept
    assert out["gt_bboxes"].tolist() == [[3, 0, 7, 2], [8, 3, 13, 7]]
    assert out["img"][0, 3].tolist() == [50, 50, 50] and out["img"][:, :3].sum() == 0
    assert out["img"][8:].sum() == 0  # bottom rows uncovered after shifting up


def test_random_shift_keeps_image_without_boxes_left(monkeypatch):
    r = results_of(10, 20, [[0, 0, 2, 2]])
    monkeypatch.setattr(np.random, "random", lambda: 0.0)
    draws = iter([-8, 0])
    monkeypatch.setattr(np.random, "randint", lambda *a: next(draws))
    out = RandomShift(shift_ratio=0.5)(r)
    assert out["gt_bboxes"].tolist() == [[0, 0, 2, 2]] and (out["img"] == 50).all()


def test_expand_by_hand(monkeypatch):
    r = results_of(10, 20, [[1, 2, 3, 4]])
    draws = iter([0.0, 2.0, 5.0, 3.0])  # prob draw, ratio, left, top
    monkeypatch.setattr(np.random, "uniform", lambda *a: next(draws))
    out = Expand(mean=(1, 2, 3), to_rgb=True, ratio_range=(1, 4))(r)
    assert out["img"].shape == (20, 40, 3) == out["img_shape"]
    assert out["img"][0, 0].tolist() == [3, 2, 1]  # RGB mean reversed for the BGR image
    assert (out["img"][3:13, 5:25] == 50).all()
    assert out["gt_bboxes"].tolist() == [[6, 5, 8, 7]]


def test_expand_probability():
    np.random.seed(0)
    grown = [Expand(prob=0.3)(results_of(4, 4, []))["img"].shape != (4, 4, 3)
             for _ in range(300)]
    assert 60 < sum(grown) < 120


@pytest.mark.parametrize("seed", range(5))
def test_affine_boxes_cover_warped_corners(seed):
    np.random.seed(seed)
    r = results_of(30, 40, [[10, 10, 20, 15]])
    out = RandomAffine(max_rotate_degree=30, max_translate_ratio=0)(r)
    if len(out["gt_bboxes"]):
        x1, y1, x2, y2 = out["gt_bboxes"][0]
        assert 0 <= x1 < x2 <= 40 and 0 <= y1 < y2 <= 30
