"""BiFPN (detbox's own neck): fusion arithmetic, wiring, seed-style arguments, registry names."""

import pytest
import torch

from detbox.models.necks import BIFPN, BiFPN
from detbox.models.necks.bifpn import BiFPNLayer, _fuse
from detbox.registry import MODELS


def feats():
    torch.manual_seed(0)
    return [torch.randn(2, 8, 16, 16), torch.randn(2, 16, 8, 8), torch.randn(2, 32, 4, 4)]


def test_fast_normalised_fusion():
    a, b = torch.full((1,), 2.0), torch.full((1,), 4.0)
    # relu(-1) = 0 drops b; weights (3, 1): (3 * 2 + 4) / (4 + eps)
    assert _fuse(torch.tensor([1.0, -1.0]), [a, b], 0.0).item() == 2.0
    assert _fuse(torch.tensor([3.0, 1.0]), [a, b], 1e-4).item() == pytest.approx(10 / 4.0001)


def test_layer_wiring_on_two_levels():
    layer = BiFPNLayer(2, 4, act_cfg=None, separable_conv=False)
    for conv in list(layer.td_convs) + list(layer.bu_convs):  # identity convs
        torch.nn.init.dirac_(conv.conv.weight)
        torch.nn.init.zeros_(conv.conv.bias)
    p0, p1 = torch.rand(1, 4, 4, 4), torch.rand(1, 4, 2, 2)
    with torch.no_grad():
        layer.td_weights[0].copy_(torch.tensor([1.0, 3.0]))
        layer.bu_weights[0].copy_(torch.tensor([1.0, 1.0]))
        out0, out1 = layer([p0, p1])
    up = p1.repeat_interleave(2, 2).repeat_interleave(2, 3)
    torch.testing.assert_close(out0, (p0 + 3 * up) / (4 + 1e-4))
    down = torch.nn.functional.max_pool2d(out0, 3, stride=2, padding=1)
    torch.testing.assert_close(out1, (p1 + down) / (2 + 1e-4))
    assert [w.numel() for w in layer.bu_weights] == [2]


def test_stacked_neck_shapes_names_and_gradients():
    neck = BiFPN([8, 16, 32], 12, num_outs=5, stack=2, add_extra_convs=True,
                 norm_cfg=dict(type="BN", momentum=0.01, eps=1e-3))
    out = neck(feats())
    assert [tuple(o.shape) for o in out] == [(2, 12, 16, 16), (2, 12, 8, 8), (2, 12, 4, 4),
                                            (2, 12, 2, 2), (2, 12, 1, 1)]
    sd = neck.state_dict()
    assert tuple(sd["extra_convs.0.conv.weight"].shape) == (12, 32, 3, 3)  # on the last input
    assert tuple(sd["bifpn_layers.1.td_convs.0.depthwise_conv.conv.weight"].shape) == (
        12, 1, 3, 3)
    assert tuple(sd["bifpn_layers.0.bu_weights.0"].shape) == (3,)
    assert tuple(sd["bifpn_layers.0.bu_weights.3"].shape) == (2,)  # the top node
    sum(o.mean() for o in out).backward()
    assert neck.bifpn_layers[0].td_weights[0].grad.abs().sum() > 0


def test_seed_style_config_and_both_names():
    assert BIFPN is BiFPN and MODELS.get("BIFPN") is MODELS.get("BiFPN") is BiFPN
    seed_cfg = dict(type="BIFPN", in_channels=[4, 8, 16, 32], out_channels=8, start_level=1,
                    add_extra_convs=True, extra_convs_on_inputs=False, num_outs=5, stack=3,
                    norm_cfg=dict(type="BN"))
    neck = MODELS.build(seed_cfg)
    assert neck.extra_convs[0].conv.in_channels == 8  # on the last lateral map
    x = [torch.randn(2, c, s, s) for c, s in ((4, 32), (8, 16), (16, 8), (32, 4))]
    assert [o.shape[-1] for o in neck(x)] == [16, 8, 4, 2, 1]
    pooled = BiFPN([8, 16, 32], 8, num_outs=4)  # extra level by max pooling
    assert pooled(feats())[-1].shape == (2, 8, 2, 2) and len(pooled.extra_convs) == 0
    with pytest.raises(AssertionError, match="num_outs"):
        BiFPN([8, 16, 32], 8, num_outs=2)
