import cv2
import numpy as np
import pytest

from detbox.datasets.transforms.functional import (
    bbox_flip,
    bbox_overlaps_np,
    find_inside_bboxes,
    imdenormalize,
    imflip,
    imnormalize,
    impad,
    impad_to_multiple,
    imrescale,
    imresize,
    rescale_size,
)


@pytest.mark.parametrize("old, scale, expected", [
    # factor = min(1333/640, 800/480) = 5/3; w = int(640*5/3 + 0.5) = int(1067.17) = 1067
    ((640, 480), (1333, 800), (1067, 800)),
    # portrait: the long edge is h=640: factor = min(1333/640, 800/480) = 5/3 -> (800, 1067)
    ((480, 640), (1333, 800), (800, 1067)),
    # very wide: factor = min(1333/1000, 800/300) = 1.333 -> (1333, 399.9 + 0.5 -> 400)
    ((1000, 300), (1333, 800), (1333, 400)),
    # (800, 1333) is the same bound as (1333, 800)
    ((640, 480), (800, 1333), (1067, 800)),
    # a factor rounds half up: 641 * 0.5 = 320.5 -> int(321.0) = 321; 481 -> 241
    ((641, 481), 0.5, (321, 241)),
    ((640, 480), 0.3, (192, 144)),
])
def test_rescale_size_by_hand(old, scale, expected):
    assert rescale_size(old, scale) == expected


def test_rescale_size_errors():
    with pytest.raises(ValueError, match="positive"):
        rescale_size((10, 10), -1.0)
    with pytest.raises(TypeError, match="long, short"):
        rescale_size((10, 10), "big")


def test_imrescale_and_imresize_shapes():
    img = np.zeros((480, 640, 3), np.uint8)
    out, factor = imrescale(img, (1333, 800), return_scale=True)
    assert out.shape == (800, 1067, 3) and factor == pytest.approx(5 / 3)
    out, w_scale, h_scale = imresize(img, (100, 50), return_scale=True)
    assert out.shape == (50, 100, 3) and (w_scale, h_scale) == (100 / 640, 50 / 480)
    assert imresize(img, (100, 50), backend="pillow").shape == (50, 100, 3)
    with pytest.raises(ValueError, match="interpolation"):
        imresize(img, (10, 10), interpolation="cubic-ish")


def test_imflip_directions():
    img = np.arange(6).reshape(2, 3)
    assert imflip(img, "horizontal").tolist() == [[2, 1, 0], [5, 4, 3]]
    assert imflip(img, "vertical").tolist() == [[3, 4, 5], [0, 1, 2]]
    assert imflip(img, "diagonal").tolist() == [[5, 4, 3], [2, 1, 0]]


@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.int64, bool])
@pytest.mark.parametrize("shape", [(5, 7), (5, 7, 3), (5, 7, 6)])
def test_imflip_equals_numpy_flip_and_is_contiguous(dtype, shape):
    img = (np.random.RandomState(0).rand(*shape) * 100).astype(dtype)
    for direction, axis in (("horizontal", 1), ("vertical", 0), ("diagonal", (0, 1))):
        out = imflip(img, direction)
        assert out.flags.c_contiguous and out.dtype == img.dtype
        assert np.array_equal(out, np.flip(img, axis=axis))


def test_impad_bottom_right_and_multiple():
    img = np.ones((5, 7, 3), np.uint8)
    out = impad(img, shape=(8, 9), pad_val=(1, 2, 3))
    assert out.shape == (8, 9, 3)
    assert (out[:5, :7] == 1).all() and out[7, 8].tolist() == [1, 2, 3]
    assert out[4, 7].tolist() == [1, 2, 3]  # right of the image, not left
    assert impad_to_multiple(img, 4).shape == (8, 8, 3)
    assert impad_to_multiple(np.ones((32, 64, 3)), 32).shape == (32, 64, 3)
    # A number is an OpenCV scalar: only the first channel gets it (as mmcv).
    assert impad(img, shape=(6, 7), pad_val=114)[5, 0].tolist() == [114, 0, 0]
    with pytest.raises(ValueError, match="3 channels"):
        impad(img, shape=(6, 7), pad_val=(1, 2))


def _mmcv_style_normalize(img, mean, std, to_rgb):
    # mmcv.imnormalize: copy to float32, cvtColor, subtract mean, multiply by 1/std (float64).
    img = img.copy().astype(np.float32)
    if to_rgb:
        cv2.cvtColor(img, cv2.COLOR_BGR2RGB, img)
    cv2.subtract(img, np.float64(np.asarray(mean).reshape(1, -1)), img)
    cv2.multiply(img, 1 / np.float64(np.asarray(std).reshape(1, -1)), img)
    return img


def test_imnormalize_by_hand_and_bit_exact():
    mean = np.array([123.675, 116.28, 103.53], np.float32)
    std = np.array([58.395, 57.12, 57.375], np.float32)
    img = np.array([[[10, 20, 30], [255, 0, 128]]], np.uint8)  # BGR
    out = imnormalize(img, mean, std, to_rgb=True)
    assert out.dtype == np.float32 and out.shape == (1, 2, 3)
    # first pixel in RGB is (30, 20, 10)
    np.testing.assert_allclose(out[0, 0], [(30 - 123.675) / 58.395, (20 - 116.28) / 57.12,
                                           (10 - 103.53) / 57.375], rtol=1e-6)
    np.testing.assert_allclose(out[0, 1], [(128 - 123.675) / 58.395, (0 - 116.28) / 57.12,
                                           (255 - 103.53) / 57.375], rtol=1e-6)
    rng = np.random.RandomState(0)
    big = rng.randint(0, 256, (37, 53, 3)).astype(np.uint8)
    for to_rgb in (True, False):
        ref = _mmcv_style_normalize(big, mean, std, to_rgb)
        assert np.array_equal(imnormalize(big, mean, std, to_rgb), ref)  # lookup-table path
        assert np.array_equal(imnormalize(big.astype(np.float32), mean, std, to_rgb), ref)
        assert np.array_equal(imnormalize(big[:, ::-1], mean, std, to_rgb),
                              _mmcv_style_normalize(big[:, ::-1], mean, std, to_rgb))
    assert (big == rng.__class__(0).randint(0, 256, (37, 53, 3))).all()  # input untouched


def test_imdenormalize_inverts_imnormalize():
    mean, std = [123.675, 116.28, 103.53], [58.395, 57.12, 57.375]
    img = np.random.RandomState(1).randint(0, 256, (9, 11, 3)).astype(np.uint8)
    back = imdenormalize(imnormalize(img, mean, std, True), mean, std, True)
    np.testing.assert_allclose(back, img, atol=1e-3)


def test_bbox_flip_by_hand():
    boxes = np.array([[1.0, 2.0, 4.0, 7.0]], np.float32)
    shape = (10, 20, 3)  # h=10, w=20
    assert bbox_flip(boxes, shape, "horizontal").tolist() == [[16.0, 2.0, 19.0, 7.0]]
    assert bbox_flip(boxes, shape, "vertical").tolist() == [[1.0, 3.0, 4.0, 8.0]]
    assert bbox_flip(boxes, shape, "diagonal").tolist() == [[16.0, 3.0, 19.0, 8.0]]
    with pytest.raises(ValueError, match="direction"):
        bbox_flip(boxes, shape, "sideways")


def test_find_inside_and_overlaps_by_hand():
    boxes = np.array([[-5, -5, -1, 3], [0, 0, 2, 2], [9, 9, 12, 12], [10, 0, 12, 2]], np.float32)
    assert find_inside_bboxes(boxes, 10, 10).tolist() == [False, True, True, False]
    a = np.array([[0, 0, 2, 2]], np.float32)
    b = np.array([[1, 1, 3, 3], [0, 0, 2, 2], [5, 5, 6, 6]], np.float32)
    # overlap 1, union 4 + 4 - 1 = 7
    np.testing.assert_allclose(bbox_overlaps_np(a, b), [[1 / 7, 1.0, 0.0]], rtol=1e-6)
    assert bbox_overlaps_np(a, np.zeros((0, 4))).shape == (1, 0)
