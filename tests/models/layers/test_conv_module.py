"""ConvModule, DepthwiseSeparableConvModule, Scale and ResLayer (mmcv / MMDetection semantics)."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from detbox.models.backbones.resnet import BasicBlock, Bottleneck
from detbox.models.layers import ConvModule, DepthwiseSeparableConvModule, ResLayer, Scale


def test_default_conv_module_has_bias_and_relu():
    m = ConvModule(3, 4, 3, padding=1)
    assert [n for n, _ in m.named_children()] == ["conv", "activate"]
    assert m.norm is None and m.norm_name is None
    assert m.conv.bias is not None and m.conv.bias.abs().sum() == 0  # kaiming init: bias 0
    assert isinstance(m.activate, nn.ReLU) and m.activate.inplace
    assert list(m.state_dict()) == ["conv.weight", "conv.bias"]
    assert (m.in_channels, m.out_channels, m.kernel_size, m.padding) == (3, 4, (3, 3), 1)


def test_norm_named_by_abbreviation_and_auto_bias():
    bn = ConvModule(3, 4, 3, norm_cfg=dict(type="BN"))
    assert bn.conv.bias is None and bn.norm is bn.bn
    assert list(bn.state_dict()) == ["conv.weight", "bn.weight", "bn.bias", "bn.running_mean",
                                     "bn.running_var", "bn.num_batches_tracked"]
    gn = ConvModule(3, 4, 3, norm_cfg=dict(type="GN", num_groups=2), act_cfg=None)
    assert gn.norm_name == "gn" and not hasattr(gn, "activate")
    assert gn.norm.weight.tolist() == [1.0] * 4 and gn.norm.bias.tolist() == [0.0] * 4
    with pytest.warns(UserWarning, match="Unnecessary conv bias"):
        ConvModule(3, 4, 3, bias=True, norm_cfg=dict(type="BN"))


def test_forward_is_conv_norm_act_in_order():
    torch.manual_seed(0)
    m = ConvModule(2, 3, 3, padding=1, norm_cfg=dict(type="BN")).eval()
    m.bn.running_mean.fill_(0.5)
    m.bn.running_var.fill_(4.0)
    x = torch.randn(1, 2, 5, 5)
    conv = F.conv2d(x, m.conv.weight, padding=1)
    normed = (conv - 0.5) / math.sqrt(4.0 + 1e-5)  # BN weight 1, bias 0 after init
    assert normed.min() < 0  # so the ReLU matters
    torch.testing.assert_close(m(x), F.relu(normed))
    torch.testing.assert_close(m(x, activate=False), normed)
    torch.testing.assert_close(m(x, norm=False, activate=False), conv)


def test_norm_before_conv_uses_in_channels():
    m = ConvModule(2, 6, 1, norm_cfg=dict(type="BN"), order=("norm", "conv", "act"))
    assert m.bn.num_features == 2
    with pytest.raises(ValueError, match="order"):
        ConvModule(2, 6, 1, order=("conv", "act"))


def test_activation_inplace_rules():
    assert not ConvModule(2, 2, 1, inplace=False).activate.inplace
    m = ConvModule(2, 2, 1, act_cfg=dict(type="Tanh"))  # Tanh takes no inplace argument
    assert isinstance(m.activate, nn.Tanh)
    lrelu = ConvModule(2, 2, 1, act_cfg=dict(type="LeakyReLU", negative_slope=0.2))
    assert lrelu.activate.negative_slope == 0.2 and lrelu.activate.inplace


def test_explicit_reflect_padding():
    torch.manual_seed(0)
    m = ConvModule(1, 1, 3, padding=1, padding_mode="reflect", act_cfg=None)
    assert isinstance(m.padding_layer, nn.ReflectionPad2d) and m.conv.padding == (0, 0)
    x = torch.randn(1, 1, 4, 4)
    expected = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), m.conv.weight, m.conv.bias)
    torch.testing.assert_close(m(x), expected)


def test_kaiming_fan_out_init():
    torch.manual_seed(0)
    m = ConvModule(64, 256, 3)
    fan_out = 256 * 9
    assert m.conv.weight.std().item() == pytest.approx(math.sqrt(2 / fan_out), rel=0.02)
    lrelu = ConvModule(64, 256, 3, act_cfg=dict(type="LeakyReLU", negative_slope=1.0))
    # gain sqrt(2 / (1 + a^2)) = 1 for a = 1
    assert lrelu.conv.weight.std().item() == pytest.approx(math.sqrt(1 / fan_out), rel=0.02)


def test_spectral_norm_and_conv_cfg():
    m = ConvModule(2, 3, 1, with_spectral_norm=True)
    assert "conv.weight_orig" in m.state_dict()
    assert isinstance(ConvModule(2, 3, 1, conv_cfg=dict(type="Conv")).conv, nn.Conv2d)


def test_depthwise_separable():
    m = DepthwiseSeparableConvModule(4, 8, 3, padding=1, norm_cfg=dict(type="BN"),
                                     dw_act_cfg=None)
    assert m.depthwise_conv.conv.groups == 4
    assert m.depthwise_conv.conv.weight.shape == (4, 1, 3, 3)
    assert not m.depthwise_conv.with_activation and m.pointwise_conv.with_activation
    assert m.pointwise_conv.norm_name == "bn" and m.depthwise_conv.norm_name == "bn"
    assert m(torch.randn(1, 4, 5, 5)).shape == (1, 8, 5, 5)
    with pytest.raises(TypeError, match="groups"):
        DepthwiseSeparableConvModule(4, 8, 3, groups=2)


def test_scale():
    s = Scale(0.5)
    assert [n for n, _ in s.named_parameters()] == ["scale"] and s.scale.dim() == 0
    out = s(torch.tensor([2.0, 4.0]))
    assert out.tolist() == [1.0, 2.0]
    out.sum().backward()
    assert s.scale.grad.item() == 6.0


def test_res_layer_downsample():
    layer = ResLayer(Bottleneck, inplanes=64, planes=64, num_blocks=2)
    assert len(layer) == 2 and layer[1].downsample is None
    assert [type(m) for m in layer[0].downsample] == [nn.Conv2d, nn.BatchNorm2d]
    avg = ResLayer(BasicBlock, inplanes=8, planes=16, num_blocks=1, stride=2, avg_down=True)
    pool, conv, _ = avg[0].downsample
    assert isinstance(pool, nn.AvgPool2d) and conv.stride == (1, 1)
    same = ResLayer(BasicBlock, inplanes=8, planes=8, num_blocks=1)
    assert same[0].downsample is None
    assert avg(torch.randn(1, 8, 5, 5)).shape == (1, 16, 3, 3)
