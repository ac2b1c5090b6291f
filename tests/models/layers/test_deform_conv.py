"""Deformable convolution (DCNv1) on torchvision's kernel, with mmcv's names and semantics."""

import pytest
import torch
import torch.nn.functional as F

from detbox.models.layers import DeformConv2d, DeformConv2dPack, build_conv_layer, deform_conv2d


def test_zero_offsets_give_a_plain_convolution_with_groups():
    torch.manual_seed(0)
    x = torch.randn(2, 4, 7, 9)
    conv = DeformConv2d(4, 6, 3, stride=2, padding=1, groups=2, deform_groups=2)
    assert sorted(conv.state_dict()) == ["weight"]
    offset = torch.zeros(2, 36, 4, 5)
    expected = F.conv2d(x, conv.weight, stride=2, padding=1, groups=2)
    torch.testing.assert_close(conv(x, offset), expected, rtol=1e-5, atol=1e-5)


def test_functional_in_mmcv_argument_order_shifts_samples():
    # TOOD's deform sampling: a depthwise 1x1 DCN with unit weights moves each channel
    x = torch.randn(1, 2, 5, 5)
    offset = torch.zeros(1, 4, 5, 5)
    offset[:, 1] = 1.0  # channel 0: dx = +1 (sample the column to the right)
    offset[:, 2] = -1.0  # channel 1: dy = -1 (sample the row above)
    out = deform_conv2d(x, offset, x.new_ones(2, 1, 1, 1), 1, 0, 1, 2, 2)
    torch.testing.assert_close(out[0, 0], torch.cat([x[0, 0, :, 1:], torch.zeros(5, 1)], 1))
    torch.testing.assert_close(out[0, 1], torch.cat([torch.zeros(1, 5), x[0, 1, :-1]], 0))


def test_inputs_smaller_than_the_kernel_are_padded_and_cropped_like_mmcv():
    # a 2x2 level (e.g. P7 of a small image) with a 3x3 kernel: mmcv pads input and offsets
    # to 3x3 at the bottom/right, convolves, and crops the output back to 2x2
    torch.manual_seed(0)
    conv = DeformConv2d(3, 4, 3, padding=1)
    x = torch.randn(1, 3, 2, 2)
    offset = torch.zeros(1, 18, 2, 2)
    offset[:, 0] = 1.0  # kernel position 0 samples one row lower
    out = conv(x, offset)
    padded = F.pad(x, (0, 1, 0, 1))
    padded_offset = F.pad(offset, (0, 1, 0, 1))
    expected = deform_conv2d(padded, padded_offset, conv.weight, padding=1)[:, :, :2, :2]
    assert out.shape == (1, 4, 2, 2)
    torch.testing.assert_close(out, expected)


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="bias"):
        DeformConv2d(4, 4, 3, bias=True)
    with pytest.raises(ValueError, match=r"offset of shape \(1, 9, 5, 5\)"):
        deform_conv2d(torch.randn(1, 4, 5, 5), torch.zeros(1, 9, 5, 5), torch.randn(4, 4, 3, 3),
                      padding=1)


def test_pack_names_init_and_registration():
    conv = build_conv_layer(dict(type="DCN"), 4, 8, 3, padding=1, bias=False)
    assert isinstance(conv, DeformConv2dPack)
    assert sorted(conv.state_dict()) == ["conv_offset.bias", "conv_offset.weight", "weight"]
    assert conv.conv_offset.weight.shape == (18, 4, 3, 3)
    x = torch.randn(1, 4, 5, 5)
    torch.testing.assert_close(conv(x), F.conv2d(x, conv.weight, padding=1), rtol=1e-5, atol=1e-5)
