"""PointGenerator (v2's single-level points)."""

import pytest
import torch

from detbox.models.task_modules.prior_generators import PointGenerator


def test_points_and_flags():
    gen = PointGenerator()
    pts = gen.grid_points((2, 3), stride=4, device="cpu")
    assert pts[:, 0].tolist() == [0, 4, 8, 0, 4, 8] and pts[:, 1].tolist() == [0, 0, 0, 4, 4, 4]
    assert (pts[:, 2] == 4).all()
    flags = gen.valid_flags((2, 3), (1, 2), device="cpu")
    assert flags.tolist() == [True, True, False, False, False, False]
    with pytest.raises(AssertionError, match="exceeds"):
        gen.valid_flags((2, 3), (3, 3), device="cpu")
    assert torch.is_tensor(pts)
