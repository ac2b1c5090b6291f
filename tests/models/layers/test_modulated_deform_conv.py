"""Modulated deformable convolution on torchvision's kernel, with mmcv's names and semantics."""

import torch
import torch.nn.functional as F

from detbox.models.layers import (
    ModulatedDeformConv2d,
    ModulatedDeformConv2dPack,
    build_conv_layer,
    modulated_deform_conv2d,
)


def test_zero_offsets_and_unit_mask_give_a_plain_convolution():
    torch.manual_seed(0)
    x = torch.randn(2, 4, 7, 9)
    conv = ModulatedDeformConv2d(4, 6, 3, stride=2, padding=1)
    offset = torch.zeros(2, 18, 4, 5)
    mask = torch.ones(2, 9, 4, 5)
    expected = F.conv2d(x, conv.weight, conv.bias, stride=2, padding=1)
    torch.testing.assert_close(conv(x, offset, mask), expected, rtol=1e-5, atol=1e-5)


def test_integer_offsets_shift_the_samples_and_mask_scales_them():
    torch.manual_seed(0)
    x = torch.randn(1, 1, 6, 6)
    weight = torch.zeros(1, 1, 1, 1) + 1.0
    offset = torch.zeros(1, 2, 6, 6)
    offset[:, 0] = 1.0  # dy = +1: sample the row below
    mask = torch.full((1, 1, 6, 6), 0.5)
    out = modulated_deform_conv2d(x, offset, mask, weight)
    expected = 0.5 * torch.cat([x[:, :, 1:], torch.zeros(1, 1, 1, 6)], 2)  # zeros outside
    torch.testing.assert_close(out, expected)


def test_offsets_larger_than_the_output_are_read_as_mmcv_reads_them():
    # mmcv reads the first C * H_out * W_out values of each image's offset/mask buffer
    torch.manual_seed(0)
    x = torch.randn(2, 3, 4, 4)
    weight = torch.randn(5, 3, 3, 3)
    offset = torch.randn(2, 18, 8, 8)
    mask = torch.rand(2, 9, 8, 8)
    out = modulated_deform_conv2d(x, offset, mask, weight, padding=1)
    same = modulated_deform_conv2d(x, offset.reshape(2, -1)[:, :18 * 16].reshape(2, 18, 4, 4),
                                   mask.reshape(2, -1)[:, :9 * 16].reshape(2, 9, 4, 4), weight,
                                   padding=1)
    assert out.shape == (2, 5, 4, 4)
    torch.testing.assert_close(out, same)


def test_pack_names_init_and_registration():
    conv = build_conv_layer(dict(type="DCNv2"), 4, 8, 3, padding=1, bias=False)
    assert isinstance(conv, ModulatedDeformConv2dPack)
    assert sorted(conv.state_dict()) == ["conv_offset.bias", "conv_offset.weight", "weight"]
    assert conv.conv_offset.weight.abs().sum() == 0  # starts as a plain conv, mask 0.5
    x = torch.randn(1, 4, 5, 5)
    torch.testing.assert_close(conv(x), 0.5 * F.conv2d(x, conv.weight, padding=1), rtol=1e-5,
                               atol=1e-5)
