"""CTResNetNeck: stride-2 transposed convs on the last map, bilinear init."""

import torch

from detbox.models.necks import CTResNetNeck


def test_each_stage_doubles_the_resolution_of_the_last_map():
    neck = CTResNetNeck(16, (8, 4, 4), (4, 4, 4), use_dcn=False).eval()
    (out,) = neck([torch.randn(1, 4, 8, 8), torch.randn(1, 16, 2, 2)])
    assert out.shape == (1, 4, 16, 16)
    assert len(neck.deconv_layers) == 6


def test_transposed_convs_start_as_bilinear_upsampling():
    neck = CTResNetNeck(4, (2,), (4,), use_dcn=False)
    neck.init_weights()
    w = neck.deconv_layers[1].conv.weight
    expected_row = torch.tensor([0.25, 0.75, 0.75, 0.25])
    torch.testing.assert_close(w[0, 0], expected_row[:, None] * expected_row[None, :])
    torch.testing.assert_close(w[1, 0], w[0, 0])
