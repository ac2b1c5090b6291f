"""DyHead: layout, attention arithmetic on a hand-checkable setting, shapes, gradients."""

import torch
import torch.nn.functional as F

from detbox.models.necks import DyHead
from detbox.models.necks.dyhead import DyReLU


def levels(channels=16):
    torch.manual_seed(0)
    # each level the ceil-half of the one before (as stride-2 convs make them), odd sizes too
    return [torch.randn(2, channels, h, w) for h, w in ((13, 15), (7, 8), (4, 4), (2, 2),
                                                         (1, 1))]


def test_layout_and_init():
    neck = DyHead(16, 16, num_blocks=2)
    sd = neck.state_dict()
    block = "dyhead_blocks.0."
    assert tuple(sd[block + "spatial_conv_offset.weight"].shape) == (27, 16, 3, 3)
    assert tuple(sd[block + "spatial_conv_high.conv.weight"].shape) == (16, 16, 3, 3)
    assert block + "spatial_conv_high.conv.bias" not in sd  # GN after it
    assert tuple(sd[block + "spatial_conv_low.norm.weight"].shape) == (16,)
    assert tuple(sd[block + "task_attn_module.conv2.conv.weight"].shape) == (64, 4, 1, 1)
    assert tuple(sd[block + "scale_attn_module.1.weight"].shape) == (1, 16, 1, 1)
    assert sd[block + "spatial_conv_offset.weight"].abs().sum() == 0  # zero_init_offset
    random_offsets = DyHead(16, 16, zero_init_offset=False).dyhead_blocks[0]
    assert random_offsets.spatial_conv_offset.weight.std() > 0


def test_dyrelu_arithmetic():
    relu = DyReLU(4, ratio=2)
    with torch.no_grad():
        for conv in (relu.conv1.conv, relu.conv2.conv):
            conv.weight.zero_()
            conv.bias.zero_()
        relu.conv2.conv.bias[4:8] = 3.0  # b1 = hsigmoid(3) - 0.5 = 0.5
    x = torch.tensor([-2.0, -0.5, 0.5, 2.0]).view(1, 4, 1, 1)
    # coefficients hsigmoid(0) - 0.5 = 0: a1 = 1, a2 = 0, b2 = 0 -> max(x + 0.5, 0)
    torch.testing.assert_close(relu(x).flatten(), torch.tensor([0.0, 0.0, 1.0, 2.5]))


def test_levels_keep_their_shapes_and_offsets_learn():
    neck = DyHead(16, 16, num_blocks=2)
    x = levels()
    out = neck(x)
    assert [o.shape for o in out] == [t.shape for t in x]
    sum(o.sum() for o in out).backward()
    grad = neck.dyhead_blocks[0].spatial_conv_offset.weight.grad
    assert grad is not None and grad.abs().sum() > 0


def test_zero_offsets_give_half_weighted_regular_convs():
    # with zero offsets the mask is sigmoid(0) = 0.5: each spatial conv is half a plain conv
    neck = DyHead(16, 16, num_blocks=1)
    block = neck.dyhead_blocks[0]
    x = levels()
    conv = block.spatial_conv_mid.conv
    with torch.no_grad():
        mid = block.spatial_conv_mid(x[0], torch.zeros(2, 18, 13, 15), torch.full(
            (2, 9, 13, 15), 0.5))
        expected = block.spatial_conv_mid.norm(0.5 * F.conv2d(x[0], conv.weight, padding=1))
    torch.testing.assert_close(mid, expected, rtol=1e-4, atol=1e-5)
