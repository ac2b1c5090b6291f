"""ChannelMapper: one conv per level, extra levels from the last input."""

import torch

from detbox.models.necks import ChannelMapper


def test_per_level_convs_and_extra_levels():
    mapper = ChannelMapper([2, 3], 4, kernel_size=1, act_cfg=None, num_outs=4)
    assert sorted(mapper.state_dict()) == [
        "convs.0.conv.bias", "convs.0.conv.weight", "convs.1.conv.bias", "convs.1.conv.weight",
        "extra_convs.0.conv.bias", "extra_convs.0.conv.weight", "extra_convs.1.conv.bias",
        "extra_convs.1.conv.weight"]
    assert mapper.extra_convs[0].conv.in_channels == 3  # the first extra conv takes the input
    torch.manual_seed(0)
    x = [torch.randn(1, 2, 8, 8), torch.randn(1, 3, 4, 4)]
    with torch.no_grad():
        out = mapper(x)
        torch.testing.assert_close(out[1], mapper.convs[1](x[1]))
        torch.testing.assert_close(out[2], mapper.extra_convs[0](x[1]))
        torch.testing.assert_close(out[3], mapper.extra_convs[1](out[2]))
    assert [tuple(o.shape) for o in out] == [(1, 4, 8, 8), (1, 4, 4, 4), (1, 4, 2, 2),
                                            (1, 4, 1, 1)]


def test_default_relu_and_no_extra():
    mapper = ChannelMapper([2], 4)
    (out,) = mapper([torch.randn(1, 2, 5, 5)])
    assert out.shape == (1, 4, 5, 5) and (out >= 0).all() and mapper.extra_convs is None
