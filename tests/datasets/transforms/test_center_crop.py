import numpy as np
import pytest

from detbox.datasets.transforms import RandomCenterCropPad

MEAN = dict(mean=[1.0, 2.0, 3.0], std=[1.0, 1.0, 1.0], to_rgb=True)  # BGR fill (3, 2, 1)


def image(h, w):
    return np.full((h, w, 3), 100, np.float32)


def test_test_mode_logical_or_by_hand():
    t = RandomCenterCropPad(crop_size=None, ratios=None, border=None, test_mode=True,
                            test_pad_add_pix=1, **MEAN)
    r = t(dict(img=image(21, 35)))
    # canvas: (21 | 127) + 1 = 128 square; the image is centred on (64, 64) around its
    # own centre (10, 17): rows 54..75, columns 47..82
    assert r["img"].shape == (128, 128, 3) == r["pad_shape"] and r["img_shape"] == (21, 35, 3)
    assert r["border"].tolist() == [54, 75, 47, 82]
    assert (r["img"][54:75, 47:82] == 100).all()
    assert r["img"][0, 0].tolist() == [3, 2, 1] and r["img"][75, 47].tolist() == [3, 2, 1]


def test_test_mode_size_divisor():
    t = RandomCenterCropPad(crop_size=None, ratios=None, border=None, test_mode=True,
                            test_pad_mode=("size_divisor", 16), **MEAN)
    r = t(dict(img=image(21, 35)))
    assert r["img"].shape == (32, 48, 3) and r["border"].tolist() == [6, 27, 7, 42]


def test_train_mode_keeps_centred_boxes(monkeypatch):
    t = RandomCenterCropPad(crop_size=(10, 10), ratios=(1.0,), border=4, test_pad_mode=None,
                            **MEAN)
    r = dict(img=image(20, 30), bbox_fields=["gt_bboxes"], gt_labels=np.array([1, 2]),
             gt_bboxes=np.array([[10, 6, 14, 10], [0, 0, 3, 3]], np.float32))
    draws = iter([12, 8])  # centre x = 12, y = 8: window x 7..17, y 3..13
    monkeypatch.setattr(np.random, "randint", lambda **k: next(draws))
    out = t(r)
    assert out["img"].shape == (10, 10, 3) == out["img_shape"] == out["pad_shape"]
    assert (out["img"] == 100).all()
    # box 0 (centre (12, 8)) shifts by (-7, -3); box 1's centre is outside: dropped
    assert out["gt_bboxes"].tolist() == [[3, 3, 7, 7]] and out["gt_labels"].tolist() == [1]


def test_border_shrinks_for_small_images():
    assert RandomCenterCropPad._get_border(128, 512) == 128
    assert RandomCenterCropPad._get_border(128, 200) == 64  # 2 * 128 > 200
    assert RandomCenterCropPad._get_border(128, 100) == 32


def test_arguments_and_input_checks():
    with pytest.raises(ValueError, match="mean, std and to_rgb"):
        RandomCenterCropPad(crop_size=(1, 1), test_pad_mode=None)
    with pytest.raises(ValueError, match="None in test mode"):
        RandomCenterCropPad(crop_size=(1, 1), test_mode=True, **MEAN)
    with pytest.raises(ValueError, match="test_pad_mode must be None"):
        RandomCenterCropPad(crop_size=(1, 1), **MEAN)
    t = RandomCenterCropPad(crop_size=None, ratios=None, border=None, test_mode=True, **MEAN)
    with pytest.raises(TypeError, match="to_float32=True"):
        t(dict(img=np.zeros((4, 4, 3), np.uint8)))
