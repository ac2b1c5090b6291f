"""YOLOAnchorGenerator: fixed (w, h) anchors at half a stride, grid order, responsible cells."""

import pytest
import torch

from detbox.models.task_modules.prior_generators import YOLOAnchorGenerator
from detbox.registry import TASK_UTILS


def _gen():
    return TASK_UTILS.build(dict(type="YOLOAnchorGenerator", strides=[32, 16],
                                 base_sizes=[[(116, 90), (30, 60)], [(10, 14), (20, 20)]]))


def test_base_anchors_are_centered_at_half_a_stride():
    gen = _gen()
    assert isinstance(gen, YOLOAnchorGenerator)
    assert gen.num_levels == 2 and gen.num_base_priors == [2, 2]
    assert gen.base_anchors[1].tolist() == [[3.0, 1.0, 13.0, 15.0], [-2.0, -2.0, 18.0, 18.0]]


def test_grid_priors_are_location_major():
    priors = _gen().grid_priors([(2, 3), (4, 6)])
    assert [tuple(p.shape) for p in priors] == [(12, 4), (48, 4)]
    # location (x=1, y=0) of level 0: the two anchors shifted by one stride in x
    torch.testing.assert_close(priors[0][2:4], _gen().base_anchors[0] + torch.tensor(
        [32.0, 0.0, 32.0, 0.0]))


def test_responsible_flags_mark_the_cell_of_each_center_on_every_level():
    gen = _gen()
    gt = torch.tensor([[40.0, 10.0, 60.0, 30.0]])  # center (50, 20)
    flags = gen.responsible_flags([(2, 3), (4, 6)], gt)
    # level 0: cell (x=1, y=0) -> index 1; level 1: cell (x=3, y=1) -> index 9
    assert flags[0].tolist() == [0, 0, 1, 1] + [0] * 8
    assert torch.nonzero(flags[1]).flatten().tolist() == [18, 19]


def test_levels_with_different_anchor_counts_are_rejected():
    with pytest.raises(ValueError, match="level 1 has 1"):
        TASK_UTILS.build(dict(type="YOLOAnchorGenerator", strides=[32, 16],
                              base_sizes=[[(1, 1), (2, 2)], [(3, 3)]]))
