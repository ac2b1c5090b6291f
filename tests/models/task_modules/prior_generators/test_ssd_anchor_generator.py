"""SSDAnchorGenerator: SSD300's sizes, anchor counts and order, explicit sizes, bad input."""

import math

import pytest
import torch

from detbox.models.task_modules.prior_generators import SSDAnchorGenerator
from detbox.models.task_modules.prior_generators.ssd_anchor_generator import ssd_anchor_sizes

SSD300 = dict(scale_major=False, input_size=300, basesize_ratio_range=(0.15, 0.9),
              strides=[8, 16, 32, 64, 100, 300], ratios=[[2], [2, 3], [2, 3], [2, 3], [2], [2]])


def test_ssd300_sizes_and_8732_anchors():
    assert ssd_anchor_sizes(300, (0.15, 0.9), 6) == ([21, 45, 99, 153, 207, 261],
                                                     [45, 99, 153, 207, 261, 315])
    gen = SSDAnchorGenerator(**SSD300)
    assert gen.num_base_anchors == [4, 6, 6, 6, 4, 4]
    sizes = [(38, 38), (19, 19), (10, 10), (5, 5), (3, 3), (1, 1)]
    assert sum(a.shape[0] for a in gen.grid_priors(sizes)) == 8732


def test_anchor_order_small_square_large_square_then_ratios():
    gen = SSDAnchorGenerator(strides=[8], ratios=[[2]], min_sizes=[10], max_sizes=[40],
                             scale_major=False)
    anchors = gen.base_anchors[0]
    wh = anchors[:, 2:] - anchors[:, :2]
    assert torch.allclose(wh[0], torch.tensor([10.0, 10.0]))
    assert torch.allclose(wh[1], torch.tensor([20.0, 20.0]))  # sqrt(40 / 10) * 10
    assert torch.allclose(wh[2], torch.tensor([10 * math.sqrt(2), 10 / math.sqrt(2)]))
    assert torch.allclose(wh[3], torch.tensor([10 / math.sqrt(2), 10 * math.sqrt(2)]))
    assert torch.allclose((anchors[:, :2] + anchors[:, 2:]) / 2, torch.full((4, 2), 4.0))


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match="Only support 300 or 512"):
        ssd_anchor_sizes(320, (0.15, 0.9), 6)
    with pytest.raises(ValueError, match="basesize_ratio_range"):
        ssd_anchor_sizes(300, (0.3, 0.9), 6)
    with pytest.raises(ValueError, match="both min_sizes and max_sizes"):
        SSDAnchorGenerator(strides=[8], ratios=[[2]], min_sizes=[10])
