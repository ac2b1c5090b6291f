"""PyramidVisionTransformer / V2: shapes, any input size, init, official checkpoints."""

from collections import OrderedDict

import pytest
import torch

from detbox.models.backbones import PyramidVisionTransformer, PyramidVisionTransformerV2
from detbox.models.backbones.pvt_convert import pvt_convert
from detbox.models.backbones.pvt_layers import AbsolutePositionEmbedding
from detbox.registry import MODELS

SMALL = dict(embed_dims=8, num_layers=[1, 2, 1, 1], num_heads=[1, 2, 2, 4], drop_path_rate=0.0)


def _official_layout(model, version: int) -> OrderedDict:
    """A hand-written official-repository state_dict (whai362/PVT) holding ``model``'s weights,
    plus the classifier entries the release files carry; written independently of
    :func:`pvt_convert` (the inverse mapping, stage by stage)."""
    sd = model.state_dict()
    out = OrderedDict()
    for s, (_embed, blocks, _) in enumerate(model.layers, start=1):
        pre = f"layers.{s - 1}"
        out[f"patch_embed{s}.proj.weight"] = sd[f"{pre}.0.projection.weight"]
        out[f"patch_embed{s}.proj.bias"] = sd[f"{pre}.0.projection.bias"]
        out[f"patch_embed{s}.norm.weight"] = sd[f"{pre}.0.norm.weight"]
        out[f"patch_embed{s}.norm.bias"] = sd[f"{pre}.0.norm.bias"]
        offset = 0
        if version == 1:
            pos = sd[f"{pre}.1.0.pos_embed"]
            if s == 4:  # the release files put the class token in front of stage 4's grid
                pos = torch.cat([torch.zeros_like(pos[:, :1]), pos], dim=1)
            out[f"pos_embed{s}"] = pos
            offset = 1
        for b in range(len(blocks) - offset):
            src, dst = f"{pre}.1.{b + offset}", f"block{s}.{b}"
            dims = sd[f"{src}.norm1.weight"].numel()
            for name in ("norm1", "norm2", "attn.sr", "attn.norm"):
                for p in ("weight", "bias"):
                    if f"{src}.{name}.{p}" in sd:
                        out[f"{dst}.{name}.{p}"] = sd[f"{src}.{name}.{p}"]
            for p in ("weight", "bias"):
                qkv = sd[f"{src}.attn.attn.in_proj_{p}"]
                out[f"{dst}.attn.q.{p}"] = qkv[:dims]
                out[f"{dst}.attn.kv.{p}"] = qkv[dims:]
                out[f"{dst}.attn.proj.{p}"] = sd[f"{src}.attn.attn.out_proj.{p}"]
            fc2 = 4 if version == 2 else 3
            out[f"{dst}.mlp.fc1.weight"] = sd[f"{src}.ffn.layers.0.weight"][:, :, 0, 0]
            out[f"{dst}.mlp.fc1.bias"] = sd[f"{src}.ffn.layers.0.bias"]
            if version == 2:
                out[f"{dst}.mlp.dwconv.dwconv.weight"] = sd[f"{src}.ffn.layers.1.weight"]
                out[f"{dst}.mlp.dwconv.dwconv.bias"] = sd[f"{src}.ffn.layers.1.bias"]
            out[f"{dst}.mlp.fc2.weight"] = sd[f"{src}.ffn.layers.{fc2}.weight"][:, :, 0, 0]
            out[f"{dst}.mlp.fc2.bias"] = sd[f"{src}.ffn.layers.{fc2}.bias"]
        if version == 2:
            out[f"norm{s}.weight"] = sd[f"{pre}.2.weight"]
            out[f"norm{s}.bias"] = sd[f"{pre}.2.bias"]
    last = model.embed_dims * model.num_heads[-1]
    if version == 1:
        out["cls_token"] = torch.zeros(1, 1, last)
        out["norm.weight"], out["norm.bias"] = torch.ones(last), torch.zeros(last)
    out["head.weight"], out["head.bias"] = torch.randn(10, last), torch.zeros(10)
    return out


def test_v1_v2_shapes_on_odd_input_sizes():
    torch.manual_seed(0)
    v1 = PyramidVisionTransformer(pretrain_img_size=64, **SMALL).eval()
    v2 = PyramidVisionTransformerV2(**SMALL).eval()
    x = torch.randn(1, 3, 72, 100)
    assert [tuple(f.shape) for f in v1(x)] == [(1, 8, 18, 25), (1, 16, 9, 12), (1, 16, 4, 6),
                                               (1, 32, 2, 3)]
    assert [tuple(f.shape) for f in v2(x)] == [(1, 8, 18, 25), (1, 16, 9, 13), (1, 16, 5, 7),
                                               (1, 32, 3, 4)]
    assert isinstance(v1.layers[0][2], torch.nn.Identity)
    assert "layers.0.1.0.pos_embed" in v1.state_dict()
    assert tuple(v1.state_dict()["layers.0.1.0.pos_embed"].shape) == (1, 16 * 16, 8)
    assert tuple(v2.state_dict()["layers.3.2.weight"].shape) == (32,)
    assert "layers.0.1.0.ffn.layers.4.weight" in v2.state_dict()
    assert tuple(v2.state_dict()["layers.0.0.projection.weight"].shape) == (8, 3, 7, 7)


def test_position_embedding_is_resized_bilinearly():
    pos = AbsolutePositionEmbedding(pos_shape=(2, 3), pos_dim=1)
    with torch.no_grad():
        pos.pos_embed.copy_(torch.arange(6.0).view(1, 6, 1))
    same = pos.resize_pos_embed(pos.pos_embed, (2, 3))
    torch.testing.assert_close(same, pos.pos_embed)
    bigger = pos.resize_pos_embed(pos.pos_embed, (4, 6)).view(4, 6)
    ref = torch.nn.functional.interpolate(torch.arange(6.0).view(1, 1, 2, 3), size=(4, 6),
                                          mode="bilinear", align_corners=False)
    torch.testing.assert_close(bigger, ref.view(4, 6))


def test_random_init_follows_mmdet_rules():
    torch.manual_seed(0)
    net = PyramidVisionTransformer(pretrain_img_size=64, **SMALL)
    net.init_weights()
    block = net.layers[0][1][1]
    assert abs(block.ffn.layers[0].weight.std().item() - (2 / 64) ** 0.5) < 0.05
    linear = torch.cat([b.attn.attn.out_proj.weight.flatten() for b in net.layers[3][1][1:]])
    assert linear.std().item() == pytest.approx(0.02, rel=0.25)  # trunc_normal, std 0.02
    assert torch.all(block.norm1.weight == 1) and torch.all(block.attn.attn.out_proj.bias == 0)
    assert net.layers[0][1][0].pos_embed.std().item() == pytest.approx(0.02, rel=0.2)
    assert net.is_init


@pytest.mark.parametrize("version", [1, 2])
def test_convert_weights_from_an_official_checkpoint(version, tmp_path):
    torch.manual_seed(0)
    cls = PyramidVisionTransformer if version == 1 else PyramidVisionTransformerV2
    kwargs = dict(SMALL, pretrain_img_size=224) if version == 1 else SMALL
    src = cls(**kwargs).eval()
    for p in src.parameters():
        torch.nn.init.normal_(p)
    official = _official_layout(src, version)
    converted = pvt_convert(official)
    assert set(converted) == set(src.state_dict())
    # a known tensor lands in the right place: stage 2, block 1's kv rows of in_proj
    first = 1 if version == 1 else 0
    in_proj = converted[f"layers.1.1.{1 + first}.attn.attn.in_proj_weight"]
    torch.testing.assert_close(in_proj[16:], official["block2.1.attn.kv.weight"])
    path = tmp_path / "pvt_official.pth"
    torch.save({"model": official}, path)
    dst = cls(init_cfg=dict(checkpoint=str(path)), **kwargs).eval()
    dst.init_weights()
    for key, value in src.state_dict().items():
        torch.testing.assert_close(dst.state_dict()[key], value, msg=key)
    x = torch.randn(1, 3, 64, 80)
    for a, b in zip(dst(x), src(x)):
        torch.testing.assert_close(a, b)


def test_prefix_of_a_detector_checkpoint_and_errors(tmp_path):
    torch.manual_seed(0)
    src = PyramidVisionTransformerV2(**SMALL)
    path = tmp_path / "detector.pth"
    torch.save({"state_dict": {f"backbone.{k}": v for k, v in src.state_dict().items()}}, path)
    dst = MODELS.build(dict(type="PyramidVisionTransformerV2", **SMALL, init_cfg=dict(
        type="Pretrained", checkpoint=str(path), prefix="backbone.")))
    dst.init_weights()
    for key, value in src.state_dict().items():
        assert torch.equal(dst.state_dict()[key], value), key
    with pytest.raises(TypeError, match="patch_sizes"):
        PyramidVisionTransformerV2(patch_sizes=[4, 2, 2, 2])
    with pytest.raises(ValueError, match="num_stages"):
        PyramidVisionTransformer(num_layers=[1, 1, 1])
    missing = PyramidVisionTransformerV2(**SMALL, init_cfg=dict(
        checkpoint="https://github.com/whai362/PVT/releases/download/v2/not_there_b0.pth"))
    with pytest.raises(FileNotFoundError, match="not_there_b0.pth"):
        missing.init_weights()
