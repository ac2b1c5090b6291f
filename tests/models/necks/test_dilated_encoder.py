"""DilatedEncoder (YOLOF's neck): layout, last level only, residual blocks, init."""

import pytest
import torch

from detbox.models.necks import DilatedEncoder


def test_layout_forward_and_init():
    neck = DilatedEncoder(16, 8, 4, 2, [2, 4])
    keys = set(neck.state_dict())
    assert {"lateral_conv.weight", "lateral_norm.running_var", "fpn_conv.bias",
            "dilated_encoder_blocks.1.conv2.conv.weight",
            "dilated_encoder_blocks.1.conv3.bn.weight"} <= keys
    assert neck.dilated_encoder_blocks[1].conv2.conv.dilation == (4, 4)
    neck.init_weights()
    assert neck.lateral_conv.bias.abs().max() == 0 and (neck.fpn_norm.weight == 1).all()
    assert neck.dilated_encoder_blocks[0].conv1.conv.weight.std() < 0.02
    neck.eval()
    outs = neck([torch.randn(1, 4, 12, 12), torch.randn(1, 16, 6, 6)])
    assert len(outs) == 1 and outs[0].shape == (1, 8, 6, 6)


def test_too_few_dilations():
    with pytest.raises(ValueError, match="block_dilations"):
        DilatedEncoder(16, 8, 4, 3, [2, 4])
