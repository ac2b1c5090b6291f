"""Darknet-53: output strides and channels, freezing, norm_eval, bad depth."""

import pytest
import torch
from torch import nn

from detbox.models.backbones import Darknet


def test_out_indices_give_strides_8_16_32():
    net = Darknet(out_indices=(0, 3, 4, 5)).eval()
    with torch.no_grad():
        outs = net(torch.zeros(1, 3, 64, 64))
    assert [tuple(o.shape) for o in outs] == [(1, 32, 64, 64), (1, 256, 8, 8), (1, 512, 4, 4),
                                              (1, 1024, 2, 2)]
    assert len(net.conv_res_block3) == 9  # the stride-2 conv and res0..res7


def test_frozen_stages_and_norm_eval():
    net = Darknet(frozen_stages=2, norm_eval=True)
    net.train()
    assert not any(p.requires_grad for p in net.conv1.parameters())
    assert not any(p.requires_grad for p in net.conv_res_block1.parameters())
    assert all(p.requires_grad for p in net.conv_res_block2.parameters())
    assert all(not m.training for m in net.modules() if isinstance(m, nn.BatchNorm2d))
    net = Darknet(norm_eval=False).train()
    assert all(m.training for m in net.modules() if isinstance(m, nn.BatchNorm2d))


def test_unknown_depth_is_rejected():
    with pytest.raises(KeyError, match="invalid depth 21"):
        Darknet(depth=21)
