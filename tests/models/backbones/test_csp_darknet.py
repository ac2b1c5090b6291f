"""CSPDarknet: Focus order, factors, SPP, depthwise, out_indices, freezing, norm_eval."""

import pytest
import torch

from detbox.models.backbones import CSPDarknet
from detbox.models.backbones.csp_darknet import Focus, SPPBottleneck


def test_focus_puts_pixel_blocks_into_channels_in_mmdetection_order():
    focus = Focus(1, 4, kernel_size=1, norm_cfg=None, act_cfg=None)
    focus.conv.conv.weight.data = torch.eye(4).reshape(4, 4, 1, 1)
    focus.conv.conv.bias.data.zero_()
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    out = focus(x)
    # top-left, bottom-left, top-right, bottom-right of each 2x2 block
    assert out[0, :, 0, 0].tolist() == [0.0, 4.0, 1.0, 5.0]
    assert out.shape == (1, 4, 2, 2)


def test_spp_concatenates_pools():
    spp = SPPBottleneck(8, 6, kernel_sizes=(3, 5))
    assert spp.conv2.conv.weight.shape == (6, 4 * 3, 1, 1)
    assert spp(torch.randn(1, 8, 7, 7)).shape == (1, 6, 7, 7)


def test_factors_set_blocks_and_channels():
    net = CSPDarknet(deepen_factor=0.33, widen_factor=0.25, init_cfg=None)
    assert len(net.stage2[1].blocks) == 3  # round(9 * 0.33)
    assert len(net.stage1[1].blocks) == 1  # round(3 * 0.33)
    assert isinstance(net.stage4[1], SPPBottleneck)
    assert not net.stage4[2].blocks[0].add_identity
    outs = net(torch.zeros(1, 3, 64, 64))
    assert [tuple(o.shape) for o in outs] == [(1, 64, 8, 8), (1, 128, 4, 4), (1, 256, 2, 2)]
    p6 = CSPDarknet(arch="P6", widen_factor=0.125, out_indices=(0, 5), init_cfg=None).eval()
    assert [tuple(o.shape) for o in p6(torch.zeros(1, 3, 64, 64))] == [(1, 8, 32, 32),
                                                                        (1, 128, 1, 1)]


def test_depthwise_uses_separable_convs():
    net = CSPDarknet(widen_factor=0.125, deepen_factor=0.33, use_depthwise=True, init_cfg=None)
    keys = set(net.state_dict())
    assert "stage1.0.depthwise_conv.conv.weight" in keys
    assert "stage1.1.blocks.0.conv2.pointwise_conv.bn.running_mean" in keys


def test_frozen_stages_and_norm_eval():
    net = CSPDarknet(widen_factor=0.125, deepen_factor=0.33, frozen_stages=1, norm_eval=True,
                     init_cfg=None)
    net.train()
    assert not any(p.requires_grad for p in net.stem.parameters())
    assert not any(p.requires_grad for p in net.stage1.parameters())
    assert all(p.requires_grad for p in net.stage2.parameters())
    assert not net.stage3[0].bn.training


def test_bad_arguments_are_named():
    with pytest.raises(KeyError, match="arch"):
        CSPDarknet(arch="P7")
    with pytest.raises(ValueError, match="out_indices"):
        CSPDarknet(out_indices=(5,))
    with pytest.raises(ValueError, match="frozen_stages"):
        CSPDarknet(frozen_stages=6)
