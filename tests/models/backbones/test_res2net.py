"""Res2Net: MMDetection v2's state_dict names and module order, forced ResNet-D settings,
the hierarchical split forward, DCN in the split convs."""

import logging

import pytest
import torch
from torch import nn

from detbox.models.backbones import Res2Net
from detbox.models.backbones.res2net import Bottle2neck
from detbox.models.layers import ModulatedDeformConv2dPack
from detbox.registry import MODELS


def _tiny(**kwargs):
    return Res2Net(depth=50, base_channels=16, base_width=8, scales=4, **kwargs)


def test_res2net101_26w_4s_keys():
    with torch.device("meta"):
        sd = MODELS.build(dict(type="Res2Net", depth=101, scales=4, base_width=26)).state_dict()
    assert sd["stem.0.weight"].shape == (32, 3, 3, 3)  # deep stem, forced
    assert sd["layer1.0.conv1.weight"].shape == (104, 64, 1, 1)  # 26 * 4
    assert sd["layer1.0.convs.2.weight"].shape == (26, 26, 3, 3)
    assert sd["layer1.0.bns.2.running_mean"].shape == (26,)
    assert "layer1.0.convs.3.weight" not in sd and "layer1.0.conv2.weight" not in sd
    assert "layer1.0.bn2.weight" not in sd
    assert sd["layer1.0.downsample.1.weight"].shape == (256, 64, 1, 1)  # after an AvgPool
    assert sd["layer4.0.convs.0.weight"].shape == (208, 208, 3, 3)
    assert sd["layer4.2.conv3.weight"].shape == (2048, 832, 1, 1)
    assert "layer3.22.bn3.weight" in sd and "layer3.23.conv1.weight" not in sd


def test_module_order_is_mmdetections():
    # measured on MMDetection 2.28.2: conv1, bn1, conv3, bn3, relu, downsample, pool, convs, bns
    block = _tiny().layer2[0]
    assert [n for n, _ in block.named_children()] == ["conv1", "bn1", "conv3", "bn3", "relu",
                                                      "downsample", "pool", "convs", "bns"]
    assert not hasattr(_tiny().layer2[1], "pool")  # only a strided stage's first block


def test_forced_resnet_d_settings_are_logged(caplog):
    with caplog.at_level(logging.WARNING):
        net = _tiny(deep_stem=False, avg_down=False)
    assert net.deep_stem and net.avg_down and hasattr(net, "stem")
    assert "ignoring {'deep_stem': False, 'avg_down': False}" in caplog.text


def test_forward_shapes_and_split_arithmetic():
    net = _tiny().eval()
    out = net(torch.randn(1, 3, 64, 64))
    assert [tuple(o.shape) for o in out] == [(1, 64, 16, 16), (1, 128, 8, 8), (1, 256, 4, 4),
                                             (1, 512, 2, 2)]
    # A 'normal' block: group i > 0 adds the previous group's output before its conv.
    torch.manual_seed(0)
    block = Bottle2neck(16, 4, scales=3, base_width=2, base_channels=4).eval()
    for m in block.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
    x = torch.randn(1, 16, 5, 5)
    mid = block.relu(block.bn1(block.conv1(x)))
    s0, s1, s2 = mid.split(2, 1)
    y0 = block.relu(block.bns[0](block.convs[0](s0)))
    y1 = block.relu(block.bns[1](block.convs[1](y0 + s1)))
    want = block.relu(block.bn3(block.conv3(torch.cat([y0, y1, s2], 1))) + x)
    torch.testing.assert_close(block(x), want)


def test_dcn_in_every_split_conv():
    net = _tiny(dcn=dict(type="DCNv2", deform_groups=1, fallback_on_stride=True),
                stage_with_dcn=(False, False, True, True))
    assert all(type(c) is ModulatedDeformConv2dPack for c in net.layer3[0].convs)
    assert type(net.layer2[0].convs[0]) is nn.Conv2d
    sd = net.state_dict()
    assert sd["layer3.1.convs.0.conv_offset.weight"].shape == (27, 32, 3, 3)  # width 64 * 8 / 16
    net.eval()(torch.randn(1, 3, 32, 32))


def test_scales_one_is_refused():
    with pytest.raises(AssertionError, match="degenerates to ResNet"):
        Res2Net(depth=50, scales=1)


def test_checkpointing_and_frozen_stages():
    torch.manual_seed(0)
    plain = _tiny(frozen_stages=1).eval()
    ckpt = _tiny(frozen_stages=1, with_cp=True).eval()
    ckpt.load_state_dict(plain.state_dict())
    x = torch.randn(1, 3, 32, 32, requires_grad=True)
    torch.testing.assert_close(plain(x)[2], ckpt(x)[2])
    assert not any(p.requires_grad for p in plain.stem.parameters())
    assert not any(p.requires_grad for p in plain.layer1.parameters())
    assert all(p.requires_grad for p in plain.layer2.parameters())
    plain.train()
    assert not plain.layer1.training and not plain.layer2[0].bns[0].training  # norm_eval
