"""YOLOV3Neck: deepest level first, upsample-and-concatenate path, channel checks."""

import pytest
import torch

from detbox.models.necks import YOLOV3Neck
from detbox.registry import MODELS


def test_outputs_are_deepest_first_with_the_configured_channels():
    neck = MODELS.build(dict(type="YOLOV3Neck", num_scales=3, in_channels=[64, 32, 16],
                             out_channels=[16, 8, 4])).eval()
    assert isinstance(neck, YOLOV3Neck)
    feats = [torch.randn(2, 16, 16, 16), torch.randn(2, 32, 8, 8), torch.randn(2, 64, 4, 4)]
    with torch.no_grad():
        outs = neck(feats)
    assert [tuple(o.shape) for o in outs] == [(2, 16, 4, 4), (2, 8, 8, 8), (2, 4, 16, 16)]
    # detect2 sees conv1(out0) upsampled (8 channels) and the 32-channel map
    assert neck.detect2.conv1.conv.in_channels == 8 + 32


def test_inconsistent_channel_lists_are_rejected():
    with pytest.raises(AssertionError, match="num_scales=3"):
        MODELS.build(dict(type="YOLOV3Neck", num_scales=3, in_channels=[8, 4],
                          out_channels=[4, 2, 1]))
