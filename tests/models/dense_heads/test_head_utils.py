"""head_utils: conv towers of RetinaNet-style heads and running them."""

import torch

from detbox.models.dense_heads.head_utils import conv_towers, mean_count, run_towers
from detbox.models.layers import ConvModule


def test_towers_are_built_alternately_with_mmdetection_keys():
    cls_convs, reg_convs = conv_towers(2, 8, 4, norm_cfg=dict(type="GN", num_groups=2))
    assert [k for k in cls_convs.state_dict()] == [
        "0.conv.weight", "0.gn.weight", "0.gn.bias", "1.conv.weight", "1.gn.weight", "1.gn.bias"]
    assert cls_convs[0].conv.in_channels == 8 and cls_convs[1].conv.in_channels == 4
    # seeded initialisation follows MMDetection's order: cls 0, reg 0, cls 1, reg 1
    torch.manual_seed(0)
    a_cls, a_reg = conv_towers(2, 8, 4)
    torch.manual_seed(0)
    cls0, reg0 = ConvModule(8, 4, 3, padding=1), ConvModule(8, 4, 3, padding=1)
    cls1 = ConvModule(4, 4, 3, padding=1)
    assert torch.equal(a_cls[0].conv.weight, cls0.conv.weight)
    assert torch.equal(a_reg[0].conv.weight, reg0.conv.weight)
    assert torch.equal(a_cls[1].conv.weight, cls1.conv.weight)


def test_first_conv_cfg_applies_to_the_first_conv_only():
    cls_convs, reg_convs = conv_towers(2, 4, 4, norm_cfg=dict(type="GN", num_groups=2),
                                       first_conv_cfg=dict(type="DCN", deform_groups=1))
    assert "conv_offset.weight" in dict(cls_convs[0].conv.named_parameters())
    assert "conv_offset.weight" in dict(reg_convs[0].conv.named_parameters())
    assert type(cls_convs[1].conv) is torch.nn.Conv2d


def test_run_towers_runs_each_tower_on_the_input():
    cls_convs, reg_convs = conv_towers(2, 3, 5)
    x = torch.randn(1, 3, 6, 6)
    cls_feat, reg_feat = run_towers(x, cls_convs, reg_convs)
    assert torch.allclose(cls_feat, cls_convs[1](cls_convs[0](x)))
    assert torch.allclose(reg_feat, reg_convs[1](reg_convs[0](x)))
    assert not torch.allclose(cls_feat, reg_feat)


def test_mean_count_is_a_float_of_at_least_one():
    assert mean_count(7, "cpu") == 7.0 and isinstance(mean_count(7, "cpu"), float)
    assert mean_count(0, "cpu") == 1.0
    assert mean_count(0.25, "cpu") == 1.0
