import numpy as np
import pytest

from detbox.datasets.transforms import Normalize, PhotoMetricDistortion, YOLOXHSVRandomAug


def test_normalize_by_hand():
    img = np.array([[[0, 100, 255], [10, 20, 30]]], np.uint8)  # BGR
    t = Normalize(mean=[1.0, 2.0, 3.0], std=[2.0, 4.0, 5.0], to_rgb=True)
    r = t(dict(img=img, img_fields=["img"]))
    # RGB of pixel 0 is (255, 100, 0): (255 - 1) / 2, (100 - 2) / 4, (0 - 3) / 5
    np.testing.assert_allclose(r["img"][0, 0], [127.0, 24.5, -0.6], rtol=1e-6)
    np.testing.assert_allclose(r["img"][0, 1], [14.5, 4.5, 1.4], rtol=1e-6)  # RGB 30, 20, 10
    assert r["img"].dtype == np.float32
    cfg = r["img_norm_cfg"]
    assert cfg["mean"].dtype == np.float32 and cfg["mean"].tolist() == [1, 2, 3]
    assert cfg["std"].tolist() == [2, 4, 5] and cfg["to_rgb"] is True
    bgr = Normalize(mean=[1.0, 2.0, 3.0], std=[2.0, 4.0, 5.0], to_rgb=False)(dict(img=img))
    np.testing.assert_allclose(bgr["img"][0, 0], [-0.5, 24.5, 50.4], rtol=1e-6)


def test_normalize_float_input_equals_uint8_input():
    img = np.random.RandomState(0).randint(0, 256, (5, 7, 3)).astype(np.uint8)
    t = Normalize(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375])
    assert np.array_equal(t(dict(img=img))["img"], t(dict(img=img.astype(np.float32)))["img"])


def test_photometric_distortion_steps_by_hand(monkeypatch):
    img = np.random.RandomState(0).randint(0, 200, (8, 9, 3)).astype(np.uint8)
    # brightness on, contrast last, no saturation, no hue, contrast on, no channel swap
    coin = iter([1, 0, 0, 0, 1, 0])
    values = iter([10.0, 2.0])  # brightness delta, contrast alpha
    monkeypatch.setattr(np.random, "randint", lambda *a: next(coin))
    monkeypatch.setattr(np.random, "uniform", lambda *a: next(values))
    out = PhotoMetricDistortion()(dict(img=img, img_fields=["img"]))["img"]
    assert out.dtype == np.float32 and out.shape == img.shape
    np.testing.assert_allclose(out, (img.astype(np.float32) + 10) * 2, rtol=1e-4, atol=1e-3)
    with pytest.raises(ValueError, match="single image field"):
        PhotoMetricDistortion()(dict(img=img, img_fields=["img", "img2"]))


def test_photometric_distortion_neutral_settings_keep_image():
    np.random.seed(1)
    img = np.random.randint(0, 256, (6, 6, 3)).astype(np.uint8)
    t = PhotoMetricDistortion(brightness_delta=0, contrast_range=(1, 1),
                              saturation_range=(1, 1), hue_delta=0)
    for _ in range(5):
        out = t(dict(img=img.copy()))["img"]
        # only the random channel permutation may change it (HSV round trip is ~exact)
        assert any(np.allclose(out, img[..., p], atol=0.01)
                   for p in ([0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]))


def test_yolox_hsv_zero_gains_keep_image():
    img = np.random.RandomState(2).randint(0, 256, (6, 6, 3)).astype(np.uint8)
    out = YOLOXHSVRandomAug(0, 0, 0)(dict(img=img.copy()))["img"]
    # an HSV round trip in uint8 changes values by at most a few levels
    assert out.dtype == np.uint8 and np.abs(out.astype(int) - img).max() <= 4
    np.random.seed(0)
    changed = YOLOXHSVRandomAug(hue_delta=50, saturation_delta=0, value_delta=0)
    assert any(not np.array_equal(changed(dict(img=img.copy()))["img"], out) for _ in range(5))
