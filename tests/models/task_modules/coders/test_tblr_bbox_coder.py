"""TBLRBBoxCoder: normalised top/bottom/left/right distances (FSAF)."""

import pytest
import torch

from detbox.models.task_modules.coders import TBLRBBoxCoder


def test_encode_by_hand():
    # prior 0..8 (center 4, size 8); gt x 2..12, y 0..16: t 4, b 12, l 2, r 8 over 8 and 4
    coder = TBLRBBoxCoder(normalizer=4.0)
    priors = torch.tensor([[0.0, 0.0, 8.0, 8.0]])
    out = coder.encode(priors, torch.tensor([[2.0, 0.0, 12.0, 16.0]]))
    assert out.tolist() == [[4 / 32, 12 / 32, 2 / 32, 8 / 32]]


def test_round_trip_and_clipping():
    torch.manual_seed(0)
    priors = torch.rand(20, 2) * 50
    priors = torch.cat([priors, priors + 4 + torch.rand(20, 2) * 20], 1)
    gts = torch.rand(20, 2) * 50
    gts = torch.cat([gts, gts + 1 + torch.rand(20, 2) * 30], 1)
    coder = TBLRBBoxCoder(normalizer=[1.0, 2.0, 3.0, 4.0])
    assert torch.allclose(coder.decode(priors, coder.encode(priors, gts)), gts, atol=1e-4)
    clipped = coder.decode(priors, coder.encode(priors, gts), max_shape=(30, 40))
    assert clipped[:, 0::2].max() <= 40 and clipped[:, 1::2].max() <= 30
    assert clipped.min() >= 0
    # batched priors [B, N, 4] with one (h, w) per image
    batched = TBLRBBoxCoder(clip_border=True).decode(
        priors[None].repeat(2, 1, 1), torch.zeros(2, 20, 4) + 0.1,
        max_shape=torch.tensor([[30, 40], [10, 10]]))
    assert batched.shape == (2, 20, 4) and batched[1].max() <= 10


def test_bad_input():
    with pytest.raises(AssertionError, match="normalizer"):
        TBLRBBoxCoder(normalizer=[1.0, 2.0]).encode(torch.zeros(1, 4), torch.ones(1, 4))
    with pytest.raises(AssertionError, match=r"\[N, 4\]"):
        TBLRBBoxCoder().encode(torch.zeros(2, 4), torch.ones(1, 4))
