"""Guided Anchoring's location targets, approx inside flags and guided anchors on hand-made
inputs."""

import math

import torch

from detbox.models.dense_heads.guided_anchor_targets import (
    approx_inside_flags,
    calc_region,
    ga_location_targets,
    guided_anchors_single,
)
from detbox.registry import TASK_UTILS

CODER = TASK_UTILS.build(dict(type="DeltaXYWHBBoxCoder", target_means=[0.0] * 4,
                              target_stds=[1.0] * 4))


def test_calc_region_rounds_and_clamps():
    box = torch.tensor([2.0, 2.0, 6.0, 6.0])
    assert [int(v) for v in calc_region(box, 0.4)] == [4, 4, 4, 4]  # round(3.6), round(4.4)
    assert [int(v) for v in calc_region(box, 0.25)] == [3, 3, 5, 5]
    assert [int(v) for v in calc_region(torch.tensor([-4.0, 0, 20, 9]), 0.0, (8, 6))] == [
        0, 0, 6, 8]  # x clamped to [0, W], y to [0, H]


def test_location_targets_center_ignore_and_neighbour_levels():
    gts = [torch.tensor([[8.0, 8.0, 24.0, 24.0]]), torch.tensor([[0.0, 0.0, 32.0, 32.0]])]
    targets, weights, avg = ga_location_targets(gts, [(8, 8), (4, 4)], anchor_scale=4,
                                                strides=[4, 8], center_ratio=0.2,
                                                ignore_ratio=0.5)
    assert avg == (2 * 64 + 2 * 16) / 200
    # image 0: scale 16 = 4 * 4 -> level 0; center cell (4, 4), ignore ring 3..5
    assert targets[0][0, 0].nonzero().tolist() == [[4, 4]]
    ring = weights[0][0, 0, 3:6, 3:6]
    assert ring[1, 1] == 1 and (ring.flatten()[[0, 1, 2, 3, 5, 6, 7, 8]] == 0).all()
    assert weights[0][0, 0, 0, 0] == torch.tensor(0.1)
    # its neighbour level 1 ignores the box there ([1, 1, 3, 3] -> the cell (2, 2))
    assert targets[1][0].sum() == 0
    assert (weights[1][0, 0] == 0).nonzero().tolist() == [[2, 2]]
    # image 1: scale 32 -> level 1 ([0, 0, 4, 4] in cells: center (2, 2))
    assert targets[1][1, 0].nonzero().tolist() == [[2, 2]]
    assert targets[0][1].sum() == 0 and (weights[0][1] == 0).any()  # ignored on level 0
    assert set(torch.cat([w.flatten() for w in weights]).tolist()) <= {0.0, 1.0,
                                                                        float(torch.tensor(0.1))}


def test_approx_inside_flags_any_approx_inside():
    # two locations, two approxs each (consecutive)
    approxs = torch.tensor([[-5.0, 0, 5, 5], [0, 0, 5, 5], [-5, 0, 5, 5], [-1, 0, 50, 5]])
    valid = torch.ones(4, dtype=torch.bool)
    assert approx_inside_flags(approxs, valid, 2, (10, 10, 3), 0).tolist() == [True, False]
    assert approx_inside_flags(approxs, valid, 2, (10, 10, 3), -1).tolist() == [True, True]
    valid[1] = False
    assert approx_inside_flags(approxs, valid, 2, (10, 10, 3), 0).tolist() == [False, False]


def test_guided_anchors_apply_the_shape_and_the_location_filter():
    squares = torch.tensor([[0.0, 0.0, 8.0, 8.0], [8.0, 0.0, 16.0, 8.0]])  # a 1x2 map
    shape = torch.zeros(2, 1, 2)
    shape[0, 0, 1] = math.log(2.0)  # location 1: twice as wide
    loc = torch.tensor([[[0.0, -10.0]]])  # sigmoid 0.5 and 4.5e-5
    anchors, mask = guided_anchors_single(squares, shape, loc, CODER, 1, None)
    assert mask.tolist() == [True, True]
    torch.testing.assert_close(anchors, torch.tensor([[0.0, 0.0, 8.0, 8.0],
                                                      [4.0, 0.0, 20.0, 8.0]]))
    anchors, mask = guided_anchors_single(squares, shape, loc, CODER, 1, 0.01)
    assert mask.tolist() == [True, False] and anchors.tolist() == [[0.0, 0.0, 8.0, 8.0]]
