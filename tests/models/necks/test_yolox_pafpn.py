"""YOLOXPAFPN: shapes, module counts and the path of information."""

import pytest
import torch

from detbox.models.necks import YOLOXPAFPN


def test_shapes_and_modules():
    neck = YOLOXPAFPN([8, 16, 32], 12, num_csp_blocks=1, init_cfg=None)
    assert len(neck.reduce_layers) == len(neck.top_down_blocks) == 2
    assert len(neck.downsamples) == len(neck.bottom_up_blocks) == 2
    assert neck.reduce_layers[0].conv.weight.shape == (16, 32, 1, 1)
    feats = [torch.randn(2, c, s, s) for c, s in ((8, 16), (16, 8), (32, 4))]
    outs = neck(feats)
    assert [tuple(o.shape) for o in outs] == [(2, 12, 16, 16), (2, 12, 8, 8), (2, 12, 4, 4)]


def test_the_coarsest_input_reaches_the_finest_output():
    neck = YOLOXPAFPN([4, 8], 4, num_csp_blocks=1, init_cfg=None).eval()
    fine, coarse = torch.randn(1, 4, 8, 8), torch.randn(1, 8, 4, 4)
    base = neck([fine, coarse])[0]
    moved = neck([fine, coarse + 1.0])[0]
    assert not torch.allclose(base, moved)


def test_wrong_number_of_levels_is_an_error():
    with pytest.raises(ValueError, match="expects 2 feature maps"):
        YOLOXPAFPN([4, 8], 4, init_cfg=None)([torch.zeros(1, 4, 2, 2)])
