"""Window attention: the SDPA path equals the explicit formula; shift mask and windows."""

import pytest
import torch

from detbox.models.layers.transformer.window_msa import (
    ShiftWindowMSA,
    WindowMSA,
    relative_position_index,
    shift_window_mask,
    window_partition,
    window_reverse,
)


def explicit_attention(m: WindowMSA, x, mask=None):
    """softmax(q k^T * scale + bias [+ mask]) v, written out (MMDetection's order)."""
    b, n, c = x.shape
    h = m.num_heads
    q, k, v = m.qkv(x).reshape(b, n, 3, h, c // h).permute(2, 0, 3, 1, 4)
    attn = (q * m.scale) @ k.transpose(-2, -1)
    table = m.relative_position_bias_table
    bias = table[m.relative_position_index.view(-1)].view(n, n, -1).permute(2, 0, 1)
    attn = attn + bias[None]
    if mask is not None:
        nw = mask.shape[0]
        attn = (attn.view(b // nw, nw, h, n, n) + mask[None, :, None]).view(-1, h, n, n)
    out = (attn.softmax(-1) @ v).transpose(1, 2).reshape(b, n, c)
    return m.proj(out)


@pytest.mark.parametrize("with_mask", [False, True])
def test_sdpa_equals_explicit_attention(with_mask):
    torch.manual_seed(0)
    m = WindowMSA(embed_dims=12, num_heads=3, window_size=(4, 4), qk_scale=None)
    torch.nn.init.normal_(m.relative_position_bias_table, std=1.0)
    x = torch.randn(2 * 3, 16, 12, requires_grad=True)
    mask = shift_window_mask(4, 12, 4, 2) if with_mask else None
    ours = m(x, mask)
    ref = explicit_attention(m, x, mask)
    torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-6)
    g_ours = torch.autograd.grad(ours.square().sum(), [x, m.relative_position_bias_table])
    g_ref = torch.autograd.grad(ref.square().sum(), [x, m.relative_position_bias_table])
    for a, b in zip(g_ours, g_ref):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_relative_position_index_formula():
    index = relative_position_index((2, 3))
    assert index.shape == (6, 6) and index.dtype == torch.int64
    # (y1 - y2 + 1) * 5 + (x1 - x2 + 2) for positions row-major in a 2 x 3 window
    pos = [(y, x) for y in range(2) for x in range(3)]
    expected = [[(a[0] - b[0] + 1) * 5 + (a[1] - b[1] + 2) for b in pos] for a in pos]
    assert index.tolist() == expected
    assert int(index.max()) == 3 * 5 - 1


def test_shift_mask_separates_wrapped_regions():
    mask = shift_window_mask(8, 8, 4, 2)  # 4 windows of 16 tokens
    assert mask.shape == (4, 16, 16)
    assert bool((mask[0] == 0).all())  # top-left window: one region
    assert set(mask.unique().tolist()) == {0.0, -100.0}
    # last window holds 4 regions of 2 x 2 tokens: each token sees 4 tokens of its region
    assert ((mask[3] == 0).sum(1) == 4).all()


def test_window_partition_round_trip():
    x = torch.randn(2, 8, 12, 3)
    windows = window_partition(x, 4)
    assert windows.shape == (2 * 2 * 3, 4, 4, 3)
    torch.testing.assert_close(windows[1], x[0, 0:4, 4:8])
    torch.testing.assert_close(window_reverse(windows, 8, 12), x)


def test_shifted_attention_on_unpadded_grid_is_equivariant_to_its_roll():
    # without padding, shifting the input by the shift size and using plain windows sees the
    # same windows as the shifted block, except for the masked wrapped-around pairs
    torch.manual_seed(0)
    plain = ShiftWindowMSA(embed_dims=8, num_heads=2, window_size=4, shift_size=0)
    shifted = ShiftWindowMSA(embed_dims=8, num_heads=2, window_size=4, shift_size=2)
    shifted.load_state_dict(plain.state_dict())
    x = torch.randn(1, 8, 8, 8)
    out = shifted(x.reshape(1, 64, 8), (8, 8)).view(1, 8, 8, 8)
    rolled = torch.roll(x, (-2, -2), (1, 2))
    ref = torch.roll(plain(rolled.reshape(1, 64, 8), (8, 8)).view(1, 8, 8, 8), (2, 2), (1, 2))
    # the top-left window after the roll (input rows/cols 2..5) has one region: no mask
    torch.testing.assert_close(out[:, 2:6, 2:6], ref[:, 2:6, 2:6])
    assert not torch.allclose(out[:, 6:, 6:], ref[:, 6:, 6:])  # masked pairs differ


def test_bad_arguments():
    with pytest.raises(ValueError, match="shift_size"):
        ShiftWindowMSA(embed_dims=8, num_heads=2, window_size=4, shift_size=4)
    with pytest.raises(ValueError, match="grid"):
        ShiftWindowMSA(embed_dims=8, num_heads=2, window_size=4)(torch.zeros(1, 10, 8), (3, 3))
