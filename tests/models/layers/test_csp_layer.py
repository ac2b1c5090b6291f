"""CSPLayer and DarknetBottleneck: the branch order, identity only with equal channels."""

import torch

from detbox.models.layers import CSPLayer, DarknetBottleneck


def test_bottleneck_identity_only_with_equal_channels():
    assert DarknetBottleneck(8, 8).add_identity
    assert not DarknetBottleneck(8, 16).add_identity
    assert not DarknetBottleneck(8, 8, add_identity=False).add_identity
    block = DarknetBottleneck(4, 4, norm_cfg=None, act_cfg=None)
    for conv in (block.conv1.conv, block.conv2.conv):
        conv.weight.data.zero_()
        conv.bias.data.zero_()
    x = torch.randn(1, 4, 3, 3)
    assert torch.equal(block(x), x)


def test_csp_layer_concatenates_main_before_short():
    layer = CSPLayer(4, 4, num_blocks=1, norm_cfg=None, act_cfg=None)
    assert layer.final_conv.conv.weight.shape == (4, 4, 1, 1)
    layer.final_conv.conv.weight.data = torch.eye(4).reshape(4, 4, 1, 1)
    layer.final_conv.conv.bias.data.zero_()
    x = torch.randn(1, 4, 3, 3)
    out = layer(x)
    assert torch.allclose(out[:, 2:], layer.short_conv(x))
    assert torch.allclose(out[:, :2], layer.blocks(layer.main_conv(x)))
