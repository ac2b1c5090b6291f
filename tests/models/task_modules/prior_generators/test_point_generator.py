"""MlvlPointGenerator: point positions and order, strides, valid flags, sparse lookup."""

import torch

from detbox.models.task_modules import MlvlPointGenerator


def test_points_are_cell_centres_in_row_major_order():
    gen = MlvlPointGenerator(strides=[8, 16])
    level0, level1 = gen.grid_priors([(2, 3), (1, 2)])
    assert level0.tolist() == [[4, 4], [12, 4], [20, 4], [4, 12], [12, 12], [20, 12]]
    assert level1.tolist() == [[8, 8], [24, 8]]
    assert gen.num_levels == 2 and gen.num_base_priors == [1, 1]


def test_offset_zero_pair_strides_and_with_stride():
    gen = MlvlPointGenerator(strides=[(8, 16)], offset=0.0)
    (points,) = gen.grid_priors([(2, 2)], with_stride=True)
    assert points.tolist() == [[0, 0, 8, 16], [8, 0, 8, 16], [0, 16, 8, 16], [8, 16, 8, 16]]


def test_dtype_is_applied():
    (points,) = MlvlPointGenerator([4]).grid_priors([(1, 1)], dtype=torch.float64)
    assert points.dtype == torch.float64 and points.tolist() == [[2.0, 2.0]]


def test_valid_flags_cover_the_padded_image():
    gen = MlvlPointGenerator(strides=[8])
    # pad (20, 30): ceil(20 / 8) = 3 rows and ceil(30 / 8) = 4 columns of a 4x5 map are valid
    (flags,) = gen.valid_flags([(4, 5)], (20, 30, 3))
    expected = torch.zeros(4, 5, dtype=torch.bool)
    expected[:3, :4] = True
    assert torch.equal(flags, expected.view(-1))


def test_sparse_priors_equal_grid_priors():
    gen = MlvlPointGenerator(strides=[8, 16])
    grid = gen.grid_priors([(3, 5), (2, 3)])
    idx = torch.tensor([0, 4, 7, 14])
    assert torch.equal(gen.sparse_priors(idx, (3, 5), 0), grid[0][idx])
    assert torch.equal(gen.sparse_priors(torch.tensor([5]), (2, 3), 1), grid[1][[5]])
