"""Gaussian keypoint targets and heatmap decoding helpers."""

import torch

from detbox.models.task_modules.gaussian_target import (
    gaussian_radius,
    gen_gaussian_target,
    get_local_maximum,
    get_topk_from_heatmap,
    transpose_and_gather_feat,
)


def test_gaussian_is_clipped_at_the_border_and_keeps_the_maximum():
    heat = torch.zeros(4, 6)
    heat[0, 1] = 0.9
    gen_gaussian_target(heat, [0, 0], radius=2)
    assert heat[0, 0] == 1.0 and heat[0, 1] == 0.9  # the existing larger value stays
    assert heat[3, :].eq(0).all() and heat[:, 3:].eq(0).all()
    assert 0 < heat[2, 2] < heat[1, 1] < 1


def test_radius_shrinks_with_min_overlap_and_grows_with_size():
    assert gaussian_radius((10, 20), 0.7) < gaussian_radius((10, 20), 0.3)
    assert gaussian_radius((10, 20), 0.3) < gaussian_radius((20, 40), 0.3)


def test_local_maximum_and_topk():
    heat = torch.zeros(1, 2, 3, 4)
    heat[0, 1, 2, 3], heat[0, 1, 2, 2], heat[0, 0, 0, 0] = 0.9, 0.5, 0.7
    kept = get_local_maximum(heat)
    assert kept[0, 1, 2, 2] == 0 and kept[0, 1, 2, 3] == 0.9
    scores, inds, clses, ys, xs = get_topk_from_heatmap(kept, k=2)
    assert scores.tolist() == [[0.8999999761581421, 0.699999988079071]]
    assert clses.tolist() == [[1, 0]] and ys.tolist() == [[2, 0]] and xs.tolist() == [[3., 0.]]
    feat = torch.arange(24.).view(1, 2, 3, 4)
    assert transpose_and_gather_feat(feat, inds).tolist() == [[[11., 23.], [0., 12.]]]
