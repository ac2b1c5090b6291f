"""PatchEmbed, PatchMerging, AdaptivePadding and the layout helpers."""

import pytest
import torch
import torch.nn.functional as F

from detbox.models.layers.transformer import (
    AdaptivePadding,
    PatchEmbed,
    PatchMerging,
    nchw_to_nlc,
    nlc_to_nchw,
)


def test_adaptive_padding_corner_and_same():
    x = torch.ones(1, 1, 5, 6)
    corner = AdaptivePadding(kernel_size=4, stride=4, padding="corner")(x)
    assert corner.shape[-2:] == (8, 8) and corner[..., :5, :6].sum() == 30
    same = AdaptivePadding(kernel_size=4, stride=4, padding="same")(x)
    assert same.shape[-2:] == (8, 8) and same[0, 0, 1, 1] == 1 and same[0, 0, 0, 0] == 0
    with pytest.raises(ValueError, match="corner"):
        AdaptivePadding(padding="valid")


def test_patch_embed_pads_projects_and_norms():
    torch.manual_seed(0)
    embed = PatchEmbed(in_channels=3, embed_dims=8, kernel_size=4, stride=4,
                       norm_cfg=dict(type="LN"), input_size=(18, 21))
    assert sorted(embed.state_dict()) == ["norm.bias", "norm.weight", "projection.bias",
                                          "projection.weight"]
    assert embed.init_out_size == (5, 6)
    x = torch.randn(2, 3, 18, 21)
    tokens, hw = embed(x)
    ref = F.conv2d(F.pad(x, [0, 3, 0, 2]), embed.projection.weight, embed.projection.bias,
                   stride=4)
    torch.testing.assert_close(tokens, embed.norm(nchw_to_nlc(ref)))
    assert hw == (5, 6)


def test_patch_merging_uses_unfold_channel_order():
    torch.manual_seed(0)
    merge = PatchMerging(in_channels=2, out_channels=3, norm_cfg=None)
    x = torch.randn(1, 3 * 3, 2)  # 3 x 3 grid -> padded to 4 x 4 -> 2 x 2
    out, hw = merge(x, (3, 3))
    assert hw == (2, 2) and tuple(out.shape) == (1, 4, 3)
    grid = F.pad(nlc_to_nchw(x, (3, 3)), [0, 1, 0, 1])[0]  # [C, 4, 4]
    # group (0, 0): channel-major, then positions (0,0), (0,1), (1,0), (1,1)
    feature = torch.stack([grid[c, i, j] for c in range(2) for i in (0, 1) for j in (0, 1)])
    torch.testing.assert_close(out[0, 0], merge.reduction(feature))
    with pytest.raises(ValueError, match="grid"):
        merge(x, (2, 3))


def test_layout_helpers_reject_bad_shapes():
    with pytest.raises(ValueError, match="H \\* W"):
        nlc_to_nchw(torch.zeros(1, 5, 2), (2, 2))
    with pytest.raises(ValueError, match="N, C, H, W"):
        nchw_to_nlc(torch.zeros(2, 3))
