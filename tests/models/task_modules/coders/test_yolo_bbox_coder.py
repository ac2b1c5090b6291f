"""YOLOBBoxCoder: cell-relative centers, log sizes, clamping, and decode(encode) round trips."""

import math

import pytest
import torch

from detbox.models.task_modules.coders import YOLOBBoxCoder
from detbox.registry import TASK_UTILS


def test_encode_gives_cell_offsets_and_log_size_ratios():
    coder = TASK_UTILS.build(dict(type="YOLOBBoxCoder"))
    anchors = torch.tensor([[0.0, 0.0, 32.0, 32.0]])
    gt = torch.tensor([[8.0, 0.0, 40.0, 64.0]])  # center (24, 32), size 32 x 64
    t = coder.encode(anchors, gt, 32)
    # center offset (24 - 16) / 32 + 0.5, (32 - 16) / 32 + 0.5; sizes log(1), log(2)
    assert t[0].tolist() == pytest.approx([0.75, 1.0 - 1e-6, 0.0, math.log(2.0)])


def test_decode_inverts_encode_inside_the_cell():
    coder = YOLOBBoxCoder()
    anchors = torch.tensor([[-10.0, -20.0, 30.0, 40.0], [0.0, 0.0, 16.0, 8.0]])
    gts = torch.tensor([[0.0, -5.0, 25.0, 30.0], [2.0, 1.0, 10.0, 9.0]])
    strides = torch.tensor([32.0, 16.0])
    decoded = coder.decode(anchors, coder.encode(anchors, gts, strides), strides[:, None])
    torch.testing.assert_close(decoded, gts, rtol=0, atol=1e-4)


def test_mismatched_shapes_are_rejected():
    with pytest.raises(ValueError, match="must both be"):
        YOLOBBoxCoder().encode(torch.zeros(2, 4), torch.zeros(3, 4), 8)
