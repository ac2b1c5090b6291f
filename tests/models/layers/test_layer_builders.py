"""Layer builders: conv, norm, activation, upsample and padding configs as mmcv 1.x builds them."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from detbox.models.layers import (
    ConvWS2d,
    HSigmoid,
    PixelShufflePack,
    build_activation_layer,
    build_conv_layer,
    build_norm_layer,
    build_padding_layer,
    build_upsample_layer,
    infer_abbr,
    is_norm,
)
from detbox.registry import LAYERS


def test_build_conv_layer_types():
    conv = build_conv_layer(None, 3, 8, 3, stride=2, padding=1, bias=False)
    assert type(conv) is nn.Conv2d
    assert (conv.in_channels, conv.out_channels, conv.stride, conv.bias) == (3, 8, (2, 2), None)
    assert type(build_conv_layer(dict(type="Conv"), 3, 8, 1)) is nn.Conv2d
    assert type(build_conv_layer(dict(type="Conv1d"), 3, 8, 1)) is nn.Conv1d
    deconv = build_conv_layer(dict(type="deconv"), 4, 2, 2, stride=2)
    assert deconv(torch.zeros(1, 4, 3, 3)).shape == (1, 2, 6, 6)
    # Keys of the config are passed to the layer too.
    assert build_conv_layer(dict(type="Conv2d", dilation=2), 3, 8, 3).dilation == (2, 2)


def test_weight_standardized_conv():
    torch.manual_seed(0)
    conv = build_conv_layer(dict(type="ConvWS"), 2, 3, 3, padding=1)
    assert isinstance(conv, ConvWS2d) and list(conv.state_dict()) == ["weight", "bias"]
    w = conv.weight.detach().clone()
    for i in range(3):  # hand-standardise each output channel
        w_i = w[i]
        centred = w_i - w_i.mean()
        std = (centred.pow(2).sum() / (w_i.numel() - 1)).sqrt()
        w[i] = centred / (std + 1e-5)
    x = torch.randn(1, 2, 5, 5)
    torch.testing.assert_close(conv(x), F.conv2d(x, w, conv.bias, padding=1))


def test_build_conv_layer_errors_name_the_problem():
    with pytest.raises(KeyError, match="unknown conv layer type 'Conv2D'.*did you mean 'Conv2d'"):
        build_conv_layer(dict(type="Conv2D"), 3, 8, 3)
    with pytest.raises(TypeError, match="must be a dict"):
        build_conv_layer("Conv2d", 3, 8, 3)
    with pytest.raises(KeyError, match="'type'"):
        build_conv_layer(dict(kernel=3), 3, 8, 3)


@pytest.mark.parametrize("cfg, postfix, name, cls", [
    (dict(type="BN"), 1, "bn1", nn.BatchNorm2d),
    (dict(type="BN1d"), "", "bn", nn.BatchNorm1d),
    (dict(type="GN", num_groups=2), 3, "gn3", nn.GroupNorm),
    (dict(type="LN"), "", "ln", nn.LayerNorm),
    (dict(type="IN"), 2, "in2", nn.InstanceNorm2d),
    (dict(type="SyncBN"), 1, "bn1", nn.BatchNorm2d),  # no process group: plain BN
])
def test_build_norm_layer_names(cfg, postfix, name, cls):
    got_name, layer = build_norm_layer(cfg, 4, postfix=postfix)
    assert got_name == name
    assert type(layer) is cls
    assert layer.eps == 1e-5


def test_norm_requires_grad_eps_and_groups():
    _, bn = build_norm_layer(dict(type="BN", requires_grad=False, eps=1e-3, momentum=0.5), 4)
    assert [p.requires_grad for p in bn.parameters()] == [False, False]
    assert (bn.eps, bn.momentum) == (1e-3, 0.5)
    _, gn = build_norm_layer(dict(type="GN", num_groups=2, requires_grad=True), 8)
    assert (gn.num_groups, gn.num_channels) == (2, 8)
    assert all(p.requires_grad for p in gn.parameters())
    with pytest.raises(KeyError, match="num_groups"):
        build_norm_layer(dict(type="GN"), 8)
    with pytest.raises(KeyError, match="unknown norm layer type 'BNN'.*'BN'"):
        build_norm_layer(dict(type="BNN"), 8)


def test_sync_bn_fallback_has_bn_state_dict_keys():
    _, sync = build_norm_layer(dict(type="SyncBN"), 4, postfix=1)
    _, bn = build_norm_layer(dict(type="BN"), 4, postfix=1)
    assert list(sync.state_dict()) == list(bn.state_dict())
    assert sync(torch.randn(2, 4, 3, 3)).shape == (2, 4, 3, 3)


def test_infer_abbr_and_is_norm():
    class MyNorm(nn.Module):
        _abbr_ = "mine"

    class GroupThing(nn.Module):
        pass

    assert infer_abbr(MyNorm) == "mine"
    assert infer_abbr(GroupThing) == "gn"
    assert infer_abbr(nn.SyncBatchNorm) == "bn"
    assert infer_abbr(nn.Identity) == "norm_layer"
    with pytest.raises(TypeError):
        infer_abbr(nn.Identity())
    assert is_norm(nn.BatchNorm2d(2)) and is_norm(nn.GroupNorm(1, 2))
    assert not is_norm(nn.Conv2d(1, 1, 1))
    assert not is_norm(nn.BatchNorm2d(2), exclude=nn.BatchNorm2d)


X = torch.tensor([-4.0, -1.0, 0.0, 2.0, 7.0])


@pytest.mark.parametrize("cfg, expected", [
    (dict(type="ReLU"), [0.0, 0.0, 0.0, 2.0, 7.0]),
    (dict(type="LeakyReLU", negative_slope=0.1), [-0.4, -0.1, 0.0, 2.0, 7.0]),
    (dict(type="ReLU6"), [0.0, 0.0, 0.0, 2.0, 6.0]),
    (dict(type="PReLU"), [-1.0, -0.25, 0.0, 2.0, 7.0]),  # slope starts at 0.25
    (dict(type="HSigmoid"), [0.0, 2 / 6, 0.5, 5 / 6, 1.0]),
    (dict(type="HSigmoid", bias=1.0, divisor=2.0), [0.0, 0.0, 0.5, 1.0, 1.0]),
    (dict(type="HSwish"), [0.0, -1 * 2 / 6, 0.0, 2 * 5 / 6, 7.0]),
    (dict(type="Clamp"), [-1.0, -1.0, 0.0, 1.0, 1.0]),
    (dict(type="Clip", min=0.0, max=3.0), [0.0, 0.0, 0.0, 2.0, 3.0]),
])
def test_activation_values(cfg, expected):
    out = build_activation_layer(cfg)(X.clone())
    torch.testing.assert_close(out, torch.tensor(expected), rtol=0, atol=1e-6)


@pytest.mark.parametrize("name, fn", [
    ("Sigmoid", torch.sigmoid), ("Tanh", torch.tanh), ("GELU", F.gelu), ("ELU", F.elu),
    ("Swish", lambda x: x * torch.sigmoid(x)), ("SiLU", F.silu),
])
def test_activation_matches_functional(name, fn):
    torch.testing.assert_close(build_activation_layer(dict(type=name))(X.clone()), fn(X))


def test_activation_arguments_and_errors():
    assert build_activation_layer(dict(type="ReLU", inplace=True)).inplace
    assert build_activation_layer(dict(type="SiLU", inplace=True)).inplace
    with pytest.raises(ValueError, match="divisor"):
        HSigmoid(divisor=0)
    with pytest.raises(KeyError, match="did you mean 'ReLU'"):
        build_activation_layer(dict(type="Relu"))


def test_upsample_layers():
    x = torch.arange(4.0).view(1, 1, 2, 2)
    near = build_upsample_layer(dict(type="nearest", scale_factor=2))
    assert near.mode == "nearest"
    expected = torch.tensor([[0.0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 3, 3], [2, 2, 3, 3]])
    torch.testing.assert_close(near(x)[0, 0], expected)
    bil = build_upsample_layer(dict(type="bilinear", scale_factor=2, align_corners=True))
    assert bil.mode == "bilinear"
    assert bil(x)[0, 0, 0].tolist() == pytest.approx([0, 1 / 3, 2 / 3, 1])
    deconv = build_upsample_layer(dict(type="deconv"), 1, 3, kernel_size=2, stride=2)
    assert type(deconv) is nn.ConvTranspose2d and deconv(x).shape == (1, 3, 4, 4)
    shuffle = build_upsample_layer(dict(type="pixel_shuffle", scale_factor=2, upsample_kernel=3),
                                   in_channels=1, out_channels=5)
    assert isinstance(shuffle, PixelShufflePack)
    assert shuffle.upsample_conv.weight.shape == (20, 1, 3, 3)
    assert shuffle(x).shape == (1, 5, 4, 4)
    assert shuffle.upsample_conv.bias.abs().sum() == 0


def test_padding_layers():
    x = torch.arange(3.0).view(1, 1, 1, 3)
    pad = (1, 1, 0, 0)  # left, right, top, bottom
    assert build_padding_layer(dict(type="reflect"), pad)(x)[0, 0, 0].tolist() == [1, 0, 1, 2, 1]
    assert build_padding_layer(dict(type="replicate"), pad)(x)[0, 0, 0].tolist() == [0, 0, 1, 2, 2]
    assert build_padding_layer(dict(type="zero"), 1)(x)[0, 0].tolist() == [[0] * 5, [0, 0, 1, 2, 0],
                                                                       [0] * 5]


def test_layer_types_are_registered():
    for name in ("Conv", "Conv2d", "BN", "SyncBN", "GN", "LN", "IN", "ReLU", "HSwish", "Clamp",
                 "nearest", "bilinear", "deconv", "pixel_shuffle", "reflect", "ConvModule"):
        assert name in LAYERS, name
