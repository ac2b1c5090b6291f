"""DistancePointBBoxCoder: encode/decode round trip, clamping, clipping."""

import pytest
import torch

from detbox.models.task_modules import DistancePointBBoxCoder

POINTS = torch.tensor([[10.0, 10.0], [50.0, 20.0]])
BOXES = torch.tensor([[4.0, 6.0, 20.0, 30.0], [40.0, 0.0, 70.0, 25.0]])


def test_encode_gives_left_top_right_bottom():
    coder = DistancePointBBoxCoder()
    assert coder.encode(POINTS, BOXES).tolist() == [[6, 4, 10, 20], [10, 20, 20, 5]]
    assert torch.equal(coder.decode(POINTS, coder.encode(POINTS, BOXES)), BOXES)


def test_encode_clamps_to_max_dis():
    targets = DistancePointBBoxCoder().encode(POINTS, BOXES, max_dis=8.0, eps=0.5)
    assert targets.tolist() == [[6, 4, 7.5, 7.5], [7.5, 7.5, 7.5, 5]]


def test_decode_clips_to_the_image_unless_clip_border_is_off():
    distances = torch.tensor([[20.0, 20.0, 20.0, 20.0]])
    point = torch.tensor([[10.0, 10.0]])
    assert DistancePointBBoxCoder().decode(point, distances, max_shape=(25, 40)).tolist() == [
        [0, 0, 30, 25]]
    unclipped = DistancePointBBoxCoder(clip_border=False).decode(point, distances, (25, 40))
    assert unclipped.tolist() == [[-10, -10, 30, 30]]


def test_batched_decode_and_bad_shapes():
    coder = DistancePointBBoxCoder()
    out = coder.decode(POINTS[None].repeat(2, 1, 1), coder.encode(POINTS, BOXES)[None].repeat(
        2, 1, 1))
    assert out.shape == (2, 2, 4) and torch.equal(out[1], BOXES)
    with pytest.raises(AssertionError):
        coder.encode(POINTS, BOXES[:1])
