"""``MaskedConv2d``: mmcv's state_dict, a plain conv without a mask, zeros outside the mask."""

import pytest
import torch
import torch.nn.functional as F

from detbox.models.layers import MaskedConv2d


def test_state_dict_and_unmasked_forward_are_a_conv():
    conv = MaskedConv2d(3, 5, 3, padding=1)
    assert [(k, tuple(v.shape)) for k, v in conv.state_dict().items()] == [
        ("weight", (5, 3, 3, 3)), ("bias", (5,))]
    x = torch.randn(2, 3, 6, 7)
    torch.testing.assert_close(conv(x), F.conv2d(x, conv.weight, conv.bias, padding=1))


def test_mask_keeps_the_conv_inside_and_zeros_outside():
    torch.manual_seed(0)
    conv = MaskedConv2d(3, 4, 3, padding=1)
    x = torch.randn(2, 3, 5, 6)
    mask = torch.rand(2, 5, 6) > 0.5
    out = conv(x, mask)
    full = conv(x)
    keep = mask[:, None].expand_as(out)
    torch.testing.assert_close(out[keep], full[keep])
    assert (out[~keep] == 0).all()
    # a one-image mask applies to every image; a float mask keeps its positive entries
    out1 = conv(x, mask[:1].float())
    torch.testing.assert_close(out1[1][mask[0][None].expand(4, -1, -1)],
                               full[1][mask[0][None].expand(4, -1, -1)])


def test_masked_output_has_gradients():
    conv = MaskedConv2d(2, 2, 1)
    x = torch.randn(1, 2, 3, 3, requires_grad=True)
    mask = torch.zeros(1, 3, 3, dtype=torch.bool)
    mask[0, 1, 1] = True
    conv(x, mask).sum().backward()
    assert x.grad[0, :, 1, 1].abs().sum() > 0 and x.grad[0, :, 0, 0].abs().sum() == 0


def test_bad_masks_and_strides_raise():
    conv = MaskedConv2d(2, 2, 3, padding=1)
    x = torch.randn(2, 2, 4, 4)
    with pytest.raises(ValueError, match=r"mask of shape \(1, 3, 4\)"):
        conv(x, torch.ones(1, 3, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match="mask has 3 images"):
        conv(x, torch.ones(3, 4, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match="stride"):
        MaskedConv2d(2, 2, 3, stride=2, padding=1)(x, torch.ones(2, 2, 2, dtype=torch.bool))
