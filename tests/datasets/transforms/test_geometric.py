import numpy as np
import pytest

from detbox.datasets.transforms import Pad, RandomFlip, Resize
from tests.datasets.transforms.transforms_golden_cases import make_results


def results_of(h, w, boxes):
    return dict(img=np.zeros((h, w, 3), np.uint8), img_shape=(h, w, 3), img_fields=["img"],
                bbox_fields=["gt_bboxes"], gt_bboxes=np.array(boxes, np.float32).reshape(-1, 4),
                gt_labels=np.arange(len(boxes)))


def test_resize_keep_ratio_coco_by_hand():
    r = Resize(img_scale=(1333, 800), keep_ratio=True)(
        results_of(480, 640, [[0, 0, 640, 480], [10, 20, 30, 40]]))
    assert r["img"].shape == (800, 1067, 3) == r["img_shape"] == r["pad_shape"]
    # w_scale = 1067 / 640 = 1.6671875, h_scale = 800 / 480
    assert r["scale_factor"].dtype == np.float32
    np.testing.assert_array_equal(
        r["scale_factor"], np.array([1067 / 640, 800 / 480] * 2, np.float32))
    np.testing.assert_array_equal(
        r["gt_bboxes"], np.array([[0, 0, 640, 480], [10, 20, 30, 40]], np.float32)
        * r["scale_factor"])
    assert r["gt_bboxes"][0].tolist() == [0, 0, 1067, 800]
    assert r["scale"] == (1333, 800) and r["scale_idx"] == 0 and r["keep_ratio"] is True


def test_resize_without_keep_ratio_and_clipping():
    r = Resize(img_scale=(100, 50), keep_ratio=False)(
        results_of(20, 40, [[0, 0, 40, 20], [30, 10, 45, 25]]))
    assert r["img"].shape == (50, 100, 3)
    np.testing.assert_array_equal(r["scale_factor"], [2.5, 2.5, 2.5, 2.5])
    # the second box goes past the image (45 * 2.5 = 112.5 > 100) and is clipped
    assert r["gt_bboxes"].tolist() == [[0, 0, 100, 50], [75, 25, 100, 50]]
    unclipped = Resize(img_scale=(100, 50), keep_ratio=False, bbox_clip_border=False)(
        results_of(20, 40, [[30, 10, 45, 25]]))
    assert unclipped["gt_bboxes"].tolist() == [[75, 25, 112.5, 62.5]]


def test_resize_scale_sources():
    r = results_of(10, 20, [[0, 0, 5, 5]])
    r["scale_factor"] = 1.5  # a float from MultiScaleFlipAug(scale_factor=...)
    out = Resize(keep_ratio=True)(r)
    # scale = (int(20 * 1.5), int(10 * 1.5)) = (30, 15), then rescaled within it
    assert out["scale"] == (30, 15) and out["img"].shape == (15, 30, 3)
    r = results_of(10, 20, [[0, 0, 5, 5]])
    r["scale"] = (40, 20)
    assert Resize(keep_ratio=False)(r)["img"].shape == (20, 40, 3)
    with pytest.raises(KeyError, match="no img_scale"):
        Resize()(results_of(10, 20, []))
    r = results_of(10, 20, [[0, 0, 5, 5]])
    Resize(img_scale=(40, 20))(r)
    with pytest.raises(KeyError, match="override"):
        Resize(img_scale=(80, 40))(r)
    assert Resize(img_scale=(80, 40), override=True)(r)["img"].shape == (40, 80, 3)


def test_resize_random_scales_stay_in_range():
    np.random.seed(0)
    t = Resize(img_scale=[(1333, 640), (1333, 800)], multiscale_mode="range")
    shorts = set()
    for _ in range(30):
        out = t(results_of(480, 640, [[0, 0, 1, 1]]))
        assert out["scale"][0] == 1333 and 640 <= out["scale"][1] <= 800
        shorts.add(out["img"].shape[0])
    assert len(shorts) > 5 and min(shorts) >= 640 and max(shorts) <= 800
    t = Resize(img_scale=[(20, 10), (40, 30)], multiscale_mode="value", keep_ratio=False)
    seen = {t(results_of(5, 5, []))["img"].shape[:2] for _ in range(20)}
    assert seen == {(10, 20), (30, 40)}


def test_resize_bad_arguments():
    with pytest.raises(ValueError, match=r"did you mean \(1333, 800\)"):
        Resize(img_scale=[1333, 800])
    with pytest.raises(ValueError, match="ratio_range needs exactly one"):
        Resize(img_scale=[(1, 2), (3, 4)], ratio_range=(0.5, 1.5))
    with pytest.raises(ValueError, match="multiscale_mode"):
        Resize(img_scale=(1, 2), multiscale_mode="random")


@pytest.mark.parametrize("direction", ["horizontal", "vertical", "diagonal"])
def test_flip_twice_is_identity(direction):
    r = make_results(3, h=23, w=31)
    img, boxes, ignore = r["img"].copy(), r["gt_bboxes"].copy(), r["gt_bboxes_ignore"].copy()
    flip = RandomFlip(flip_ratio=1.0, direction=direction)
    once = flip(r)
    assert once["flip"] is True and once["flip_direction"] == direction
    assert not np.array_equal(once["gt_bboxes"], boxes)
    del once["flip"], once["flip_direction"]
    twice = flip(once)
    assert np.array_equal(twice["img"], img)
    np.testing.assert_allclose(twice["gt_bboxes"], boxes, atol=1e-5)
    np.testing.assert_allclose(twice["gt_bboxes_ignore"], ignore, atol=1e-5)


def test_flip_image_and_boxes_by_hand():
    r = results_of(4, 10, [[1, 0, 3, 2]])
    r["img"][0, 1:3] = 255  # the box's top row
    out = RandomFlip(flip_ratio=1.0)(r)
    assert out["gt_bboxes"].tolist() == [[7, 0, 9, 2]]  # x1' = 10 - 3, x2' = 10 - 1
    assert out["img"][0, 7:9].min() == 255 and out["img"][0].sum() == 2 * 255 * 3


def test_flip_probability_and_preset_flags():
    np.random.seed(0)
    t = RandomFlip(flip_ratio=0.5)
    flips = [t(results_of(4, 4, []))["flip"] for _ in range(400)]
    assert 150 < sum(flips) < 250
    t = RandomFlip(flip_ratio=[0.5, 0.5], direction=["horizontal", "vertical"])
    dirs = {t(results_of(4, 4, []))["flip_direction"] for _ in range(50)}
    assert dirs == {"horizontal", "vertical"}
    r = results_of(4, 10, [[1, 0, 3, 2]])
    r.update(flip=True, flip_direction="vertical")
    assert RandomFlip()(r)["gt_bboxes"].tolist() == [[1, 2, 3, 4]]
    with pytest.raises(ValueError, match="MultiScaleFlipAug"):
        RandomFlip()(results_of(4, 4, []))
    with pytest.raises(ValueError, match="direction"):
        RandomFlip(0.5, direction="sideways")


@pytest.mark.parametrize("h, w, divisor, expected", [
    (800, 1067, 32, (800, 1088)),   # 1067 -> ceil(1067 / 32) * 32 = 34 * 32
    (33, 64, 32, (64, 64)),
    (32, 32, 32, (32, 32)),
    (1, 1, 8, (8, 8)),
])
def test_pad_size_divisor_shapes(h, w, divisor, expected):
    r = results_of(h, w, [[0, 0, 1, 1]])
    r["img"][:] = 9
    out = Pad(size_divisor=divisor)(r)
    assert out["img"].shape[:2] == expected == out["pad_shape"][:2]
    assert out["img_shape"] == (h, w, 3)  # the unpadded size stays
    assert (out["img"][:h, :w] == 9).all() and (out["img"][h:] == 0).all()
    assert (out["img"][:, w:] == 0).all()
    assert out["pad_size_divisor"] == divisor and out["pad_fixed_size"] is None
    assert out["gt_bboxes"].tolist() == [[0, 0, 1, 1]]


def test_pad_fixed_size_and_square():
    out = Pad(size=(20, 30))(results_of(10, 25, []))
    assert out["img"].shape == (20, 30, 3) and out["pad_fixed_size"] == (20, 30)
    out = Pad(pad_to_square=True, pad_val=dict(img=(1, 2, 3)))(results_of(10, 25, []))
    assert out["img"].shape == (25, 25, 3) and out["img"][24, 0].tolist() == [1, 2, 3]
    assert out["pad_fixed_size"] == (25, 25)
    with pytest.raises(ValueError, match="exactly one"):
        Pad()
    with pytest.raises(ValueError, match="pad_to_square"):
        Pad(size=(1, 1), pad_to_square=True)
