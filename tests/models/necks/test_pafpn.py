"""PAFPN: the bottom-up path on top of FPN, extra levels."""

import torch

from detbox.models.necks import FPN, PAFPN


def inputs():
    torch.manual_seed(0)
    return [torch.randn(1, 8, 16, 16), torch.randn(1, 16, 8, 8), torch.randn(1, 32, 4, 4)]


def test_bottom_up_path_over_the_fpn_outputs():
    pafpn = PAFPN([8, 16, 32], 4, num_outs=3)
    fpn = FPN([8, 16, 32], 4, num_outs=3)
    fpn.load_state_dict({k: v for k, v in pafpn.state_dict().items()
                         if k.startswith(("lateral_convs", "fpn_convs"))})
    x = inputs()
    with torch.no_grad():
        out, base = pafpn(x), fpn(x)
        assert torch.equal(out[0], base[0])  # the finest level is the FPN's
        level1 = base[1] + pafpn.downsample_convs[0](base[0])
        torch.testing.assert_close(out[1], pafpn.pafpn_convs[0](level1))
        level2 = base[2] + pafpn.downsample_convs[1](level1)
        torch.testing.assert_close(out[2], pafpn.pafpn_convs[1](level2))
    assert len(pafpn.downsample_convs) == len(pafpn.pafpn_convs) == 2


def test_extra_levels_and_start_level():
    pafpn = PAFPN([8, 16, 32], 4, num_outs=5, start_level=1, add_extra_convs="on_output")
    shapes = [tuple(o.shape[-2:]) for o in pafpn(inputs())]
    # two input levels used, three stride-2 extra convs (a 1x1 map stays 1x1)
    assert shapes == [(8, 8), (4, 4), (2, 2), (1, 1), (1, 1)]
    assert len(pafpn.downsample_convs) == 1
    pooled = PAFPN([8, 16, 32], 4, num_outs=4)
    assert [tuple(o.shape[-2:]) for o in pooled(inputs())][-1] == (2, 2)
