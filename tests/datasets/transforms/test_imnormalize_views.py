"""``imnormalize`` on float views (PhotoMetricDistortion's channel permutation, flips): the
SSD pipeline hands such arrays to ``Normalize``."""

import numpy as np

from detbox.datasets.transforms.functional import imnormalize


def test_float_views_normalise_like_their_copies():
    rng = np.random.default_rng(0)
    img = rng.uniform(0, 255, size=(5, 7, 3)).astype(np.float32)
    mean, std = [123.675, 116.28, 103.53], [58.395, 57.12, 57.375]
    for view in (img[..., [2, 0, 1]], img[:, ::-1], img[::2]):
        assert not view.flags["C_CONTIGUOUS"] or view.base is not None
        expected = imnormalize(np.ascontiguousarray(view), mean, std, to_rgb=True)
        np.testing.assert_array_equal(imnormalize(view, mean, std, to_rgb=True), expected)
