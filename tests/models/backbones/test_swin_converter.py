"""Loading checkpoints of the original Swin release (``convert_weights=True``).

The fake checkpoints here have the published files' layout (``{'model': state_dict}`` with
``patch_embed.proj``, ``layers.N.blocks.M.{norm1,attn,norm2,mlp.fc1,mlp.fc2}``,
``layers.N.downsample.{reduction,norm}``, ``norm``, ``head`` and the stored
``relative_position_index`` / ``attn_mask`` buffers). They are made from a detbox model by a
hand-written inverse conversion (``swin_release_layout.py``), so that a converted load must
reproduce that model exactly.
"""

import logging

import pytest
import torch
import torch.nn.functional as F

from detbox.models.backbones.swin import SwinTransformer
from detbox.models.backbones.swin_converter import swin_converter
from detbox.models.layers.transformer import PatchMerging
from tests.models.backbones.swin_release_layout import original_layout

URL = ("https://github.com/SwinTransformer/storage/releases/download/v1.0.0/"
       "swin_tiny_patch4_window7_224.pth")
CFG = dict(embed_dims=8, depths=(2, 2, 1), num_heads=(1, 2, 2), window_size=3,
           strides=(4, 2, 2), out_indices=(0, 1, 2), drop_path_rate=0.0)


def random_net(**overrides) -> SwinTransformer:
    torch.manual_seed(0)
    net = SwinTransformer(**dict(CFG, **overrides))
    with torch.no_grad():
        for p in net.parameters():
            p.normal_(0, 0.3)
    return net.eval()


@pytest.fixture
def hub(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    folder = tmp_path / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    return folder


def test_original_patch_merging_equals_converted_unfold_merging():
    torch.manual_seed(0)
    c, h, w = 3, 4, 6
    x = torch.randn(2, h, w, c)
    weight, gamma, beta = torch.randn(5, 4 * c), torch.randn(4 * c), torch.randn(4 * c)
    # the original PatchMerging: concat x0..x3, LayerNorm, linear reduction
    merged = torch.cat([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]],
                       -1)
    ref = F.layer_norm(merged, (4 * c,), gamma, beta) @ weight.T
    converted = swin_converter({"layers.0.downsample.reduction.weight": weight,
                                "layers.0.downsample.norm.weight": gamma,
                                "layers.0.downsample.norm.bias": beta})
    merge = PatchMerging(in_channels=c, out_channels=5)
    merge.load_state_dict({k.replace("backbone.stages.0.downsample.", ""): v
                           for k, v in converted.items()})
    out, hw = merge(x.reshape(2, h * w, c), (h, w))
    torch.testing.assert_close(out, ref.reshape(2, -1, 5), rtol=1e-5, atol=1e-5)


def test_converter_names_and_dropped_keys():
    original = original_layout(random_net())
    converted = swin_converter(original)
    assert torch.equal(converted["backbone.stages.1.blocks.0.ffn.layers.0.0.weight"],
                       original["layers.1.blocks.0.mlp.fc1.weight"])
    assert torch.equal(converted["backbone.stages.0.blocks.1.attn.w_msa.qkv.bias"],
                       original["layers.0.blocks.1.attn.qkv.bias"])
    assert torch.equal(converted["backbone.patch_embed.projection.weight"],
                       original["patch_embed.proj.weight"])
    assert not any(k.endswith(("relative_position_index", "attn_mask")) or ".head." in k
                   or k.startswith("backbone.head") for k in converted)
    assert "backbone.norm.weight" in converted  # kept, as MMDetection does (then unused)


def test_release_file_from_the_hub_cache_gives_the_same_features(hub, caplog):
    net = random_net()
    torch.save({"model": original_layout(net)}, hub / URL.rsplit("/", 1)[1])
    loaded = SwinTransformer(**CFG, convert_weights=True,
                             init_cfg=dict(type="Pretrained", checkpoint=URL))
    with caplog.at_level(logging.WARNING):
        loaded.init_weights()
    loaded.eval()
    ours = dict(loaded.state_dict())
    for key, value in net.state_dict().items():
        if not key.startswith("norm"):
            assert torch.equal(ours[key], value), key
    # only the release's final norm is left over; the detection norms stay as initialised
    assert "unexpected keys in source state_dict (2): norm.{weight,bias}" in caplog.text
    assert "missing keys in source state_dict (6): norm0" in caplog.text
    with torch.no_grad():
        loaded.load_state_dict({k: v for k, v in net.state_dict().items()
                                if k.startswith("norm")}, strict=False)
        x = torch.randn(1, 3, 40, 52)
        for a, b in zip(loaded(x), net(x)):
            torch.testing.assert_close(a, b)


def test_missing_release_file_says_where_to_put_it(hub):
    net = SwinTransformer(**CFG, convert_weights=True,
                          init_cfg=dict(type="Pretrained", checkpoint=URL))
    with pytest.raises(FileNotFoundError, match="swin_tiny_patch4_window7_224.pth"):
        net.init_weights()


def test_bias_table_and_abs_pos_embed_resized_to_the_model(hub, tmp_path):
    small = random_net(window_size=3, use_abs_pos_embed=True, pretrain_img_size=16)
    original = original_layout(small)
    # the release stores absolute_pos_embed as [1, L, C] (row-major tokens)
    pos = small.absolute_pos_embed.detach()  # [1, 8, 4, 4]
    original["absolute_pos_embed"] = pos.flatten(2).transpose(1, 2).clone()
    path = tmp_path / "swin_custom.pth"
    torch.save({"model": original}, path)
    big = SwinTransformer(**dict(CFG, window_size=5, use_abs_pos_embed=True,
                                 pretrain_img_size=24), convert_weights=True,
                          init_cfg=dict(type="Pretrained", checkpoint=str(path)))
    big.init_weights()
    key = "stages.1.blocks.1.attn.w_msa.relative_position_bias_table"
    table = original[key.replace("stages.", "layers.").replace("w_msa.", "")]  # [25, 2]
    expected = F.interpolate(table.T.reshape(1, 2, 5, 5), size=(9, 9), mode="bicubic")
    torch.testing.assert_close(big.state_dict()[key], expected.reshape(2, 81).T)
    # the model's own index for 5 x 5 windows, not the stored 3 x 3 one
    assert big.stages[0].blocks[0].attn.w_msa.relative_position_index.shape == (25, 25)
    expected_pos = F.interpolate(pos, size=(6, 6), mode="bicubic", align_corners=False)
    torch.testing.assert_close(big.absolute_pos_embed.detach(), expected_pos)


def test_detbox_checkpoint_with_backbone_prefix_loads_without_conversion(tmp_path):
    net = random_net()
    path = tmp_path / "detector.pth"
    torch.save({"state_dict": {f"backbone.{k}": v for k, v in net.state_dict().items()}
                | {"neck.x": torch.zeros(1)}}, path)
    for convert in (False, True):  # convert_weights=True skips files not in the release layout
        loaded = SwinTransformer(**CFG, convert_weights=convert,
                                 init_cfg=dict(type="Pretrained", checkpoint=str(path)))
        loaded.init_weights()
        for key, value in net.state_dict().items():
            assert torch.equal(loaded.state_dict()[key], value), key


def test_init_cfg_prefix_selects_the_backbone_keys(tmp_path):
    net = random_net()
    path = tmp_path / "teacher.pth"
    torch.save({"state_dict": {f"teacher.backbone.{k}": v for k, v in net.state_dict().items()}},
               path)
    loaded = SwinTransformer(**CFG, init_cfg=dict(type="Pretrained", checkpoint=str(path),
                                                  prefix="teacher.backbone."))
    loaded.init_weights()
    for key, value in net.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
    wrong = SwinTransformer(**CFG, init_cfg=dict(type="Pretrained", checkpoint=str(path),
                                                 prefix="student."))
    with pytest.raises(KeyError, match="student.*teacher"):
        wrong.init_weights()
