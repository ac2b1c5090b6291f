"""SinePositionalEncoding and LearnedPositionalEncoding: values, padding, shapes, init."""

import math

import torch

from detbox.models.layers.transformer import LearnedPositionalEncoding, SinePositionalEncoding


def test_sine_encoding_values_by_hand():
    pe = SinePositionalEncoding(num_feats=2, temperature=10000)
    mask = torch.zeros(1, 2, 3, dtype=torch.bool)
    pos = pe(mask)
    assert pos.shape == (1, 4, 2, 3)
    # channels: y (sin, cos), then x (sin, cos); positions are 1-based cumulative counts
    # dim_t = 10000 ** (2 * (i // 2) / 2) = [1, 1]
    y = torch.tensor([[1.0] * 3, [2.0] * 3])
    x = torch.tensor([[1.0, 2.0, 3.0]] * 2)
    torch.testing.assert_close(pos[0, 0], y.sin())
    torch.testing.assert_close(pos[0, 1], y.cos())
    torch.testing.assert_close(pos[0, 2], x.sin())
    torch.testing.assert_close(pos[0, 3], x.cos())


def test_sine_normalised_positions_end_at_scale_inside_the_valid_area():
    pe = SinePositionalEncoding(num_feats=4, normalize=True, scale=2 * math.pi, offset=0.0)
    mask = torch.zeros(1, 3, 5, dtype=torch.bool)
    mask[:, :, 3:] = True  # two padded columns
    pos = pe(mask)
    # x of the last valid column normalises to ~2*pi (sin ~ 0, cos ~ 1); padded columns keep
    # the last cumulative count in x (same as the last valid column) and 0 in y
    x_sin = pos[0, 4]
    torch.testing.assert_close(x_sin[:, 2], torch.zeros(3), atol=1e-4, rtol=0)
    torch.testing.assert_close(pos[0, 5, :, 2], torch.ones(3), atol=1e-4, rtol=0)
    torch.testing.assert_close(pos[0, 4:, :, 3], pos[0, 4:, :, 2])
    torch.testing.assert_close(pos[0, 0, :, 3], torch.zeros(3))
    assert "normalize=True" in repr(pe)


def test_sine_offset_shifts_positions():
    a = SinePositionalEncoding(num_feats=4, normalize=True)(torch.zeros(1, 2, 2))
    b = SinePositionalEncoding(num_feats=4, normalize=True, offset=-0.5)(torch.zeros(1, 2, 2))
    assert not torch.allclose(a, b)


def test_learned_encoding_layout_and_values():
    pe = LearnedPositionalEncoding(num_feats=3, row_num_embed=4, col_num_embed=5)
    assert sorted(pe.state_dict()) == ["col_embed.weight", "row_embed.weight"]
    pe.init_weights()  # Uniform(0, 1) on Embedding
    assert float(pe.col_embed.weight.min()) >= 0 and float(pe.col_embed.weight.max()) <= 1
    pos = pe(torch.zeros(2, 2, 3))
    assert pos.shape == (2, 6, 2, 3)
    torch.testing.assert_close(pos[1, :3, 1, 2], pe.col_embed.weight[2])  # x first
    torch.testing.assert_close(pos[0, 3:, 1, 0], pe.row_embed.weight[1])  # then y
