"""NASFCOS_FPN and the merge cells; NASFCOSHead's searched towers."""

import pytest
import torch

from detbox.models.dense_heads import NASFCOSHead
from detbox.models.layers.merge_cells import ConcatCell, GlobalPoolingCell, SumCell
from detbox.models.necks import NASFCOS_FPN


def test_merge_cells_resize_both_ways():
    small, big = torch.randn(1, 4, 3, 3), torch.randn(1, 4, 7, 7)
    cell = SumCell(4, 4, with_out_conv=False)
    out = cell(big, small)
    assert torch.allclose(out, big + torch.nn.functional.interpolate(small, size=(7, 7)))
    down = cell(big, small, out_size=(3, 3))  # 7 -> padded to 9, max-pooled by 3
    assert down.shape == (1, 4, 3, 3)
    assert ConcatCell(4, 4)(small, small).shape == (1, 4, 3, 3)
    assert GlobalPoolingCell(4, 4, with_out_conv=False)(small, small).shape == (1, 4, 3, 3)


def test_neck_outputs_and_layout():
    neck = NASFCOS_FPN([8, 16, 32, 64], 8, num_outs=5, start_level=1,
                       conv_cfg=dict(type="DCNv2", deform_groups=2), norm_cfg=dict(type="BN"))
    neck.init_weights()
    neck.eval()
    keys = set(neck.state_dict())
    assert {"fpn.c22_1.input1_conv.conv.weight", "fpn.c22_1.input2_conv.conv.conv_offset.weight",
            "fpn.c61.out_conv.bn.running_var", "adapt_convs.2.bn.weight",
            "extra_downsamples.1.conv.weight"} <= keys
    assert "fpn.c32.input2_conv.conv.weight" not in keys  # c32 and c02 have no input2 conv
    feats = [torch.randn(1, c, s, s) for c, s in ((8, 32), (16, 16), (32, 8), (64, 4))]
    outs = neck(feats)
    assert [tuple(o.shape[-2:]) for o in outs] == [(16, 16), (8, 8), (4, 4), (2, 2), (1, 1)]
    with pytest.raises(AssertionError, match="init_cfg"):
        NASFCOS_FPN([8, 16], 8, num_outs=2, init_cfg=dict(type="Xavier"))


def test_searched_head_towers():
    head = NASFCOSHead(num_classes=2, in_channels=8, feat_channels=8, strides=[8],
                       norm_cfg=dict(type="GN", num_groups=4))
    keys = set(head.state_dict())
    assert {"cls_convs.0.conv.conv_offset.weight", "cls_convs.0.conv.bias",
            "reg_convs.1.conv.weight", "reg_convs.3.gn.weight"} <= keys
    assert "cls_convs.1.conv.bias" not in keys
    assert head.cls_convs[3].conv.kernel_size == (1, 1)
    cls, reg, ctr = head([torch.randn(1, 8, 6, 6)])
    assert cls[0].shape == (1, 2, 6, 6) and ctr[0].shape == (1, 1, 6, 6)
