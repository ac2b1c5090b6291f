"""SwinTransformer: shapes for any input size, stochastic depth, freezing, checkpointing, init."""

import pytest
import torch
from torch import nn

from detbox.models.backbones.swin import SwinTransformer
from detbox.models.layers.transformer import DropPath

TINY = dict(embed_dims=8, depths=(2, 2), num_heads=(1, 2), window_size=3, strides=(4, 2),
            out_indices=(0, 1))


def test_outputs_for_sizes_that_are_not_window_multiples():
    net = SwinTransformer(**TINY).eval()
    for h, w in ((30, 22), (17, 41), (12, 12)):
        outs = net(torch.randn(1, 3, h, w))
        h1, w1 = -(-h // 4), -(-w // 4)
        assert [tuple(o.shape) for o in outs] == [(1, 8, h1, w1),
                                                   (1, 16, -(-h1 // 2), -(-w1 // 2))]


def test_state_dict_names_and_shift_pattern():
    net = SwinTransformer(**TINY, use_abs_pos_embed=True, pretrain_img_size=(24, 32))
    keys = net.state_dict()
    assert keys["absolute_pos_embed"].shape == (1, 8, 6, 8)
    assert keys["stages.0.blocks.1.attn.w_msa.relative_position_bias_table"].shape == (25, 1)
    assert keys["stages.0.blocks.0.attn.w_msa.relative_position_index"].shape == (9, 9)
    assert keys["stages.0.downsample.reduction.weight"].shape == (16, 32)
    assert keys["stages.1.blocks.0.ffn.layers.0.0.weight"].shape == (64, 16)
    assert {"norm0.weight", "norm1.weight", "patch_embed.projection.weight"} <= set(keys)
    assert not any(k.startswith("stages.1.downsample") for k in keys)
    shifts = [b.attn.shift_size for s in net.stages for b in s.blocks]
    assert shifts == [0, 1, 0, 1]


def test_drop_path_grows_linearly_over_all_blocks():
    net = SwinTransformer(**TINY, drop_path_rate=0.3)
    rates = [b.attn.drop.drop_prob for s in net.stages for b in s.blocks]
    assert rates == pytest.approx([0.0, 0.1, 0.2, 0.3])
    assert all(isinstance(b.ffn.dropout_layer, DropPath) for s in net.stages for b in s.blocks)


def test_frozen_stages_stop_gradients_and_stay_in_eval():
    net = SwinTransformer(**TINY, frozen_stages=1, drop_rate=0.5)
    net.train()
    assert not any(p.requires_grad for p in net.patch_embed.parameters())
    assert not any(p.requires_grad for p in net.stages[0].parameters())
    assert not any(p.requires_grad for p in net.norm0.parameters())
    assert all(p.requires_grad for p in net.stages[1].parameters())
    assert not net.stages[0].training and not net.drop_after_pos.training
    assert net.stages[1].training


def test_with_cp_gives_the_same_values_and_gradients():
    torch.manual_seed(0)
    ref = SwinTransformer(**TINY, drop_path_rate=0.0)
    cp = SwinTransformer(**TINY, drop_path_rate=0.0, with_cp=True)
    cp.load_state_dict(ref.state_dict())
    x = torch.randn(2, 3, 20, 28)
    outs = [sum(o.square().sum() for o in net(x)) for net in (ref, cp)]
    torch.testing.assert_close(outs[0], outs[1])
    outs[0].backward()
    outs[1].backward()
    for (name, a), b in zip(ref.named_parameters(), cp.parameters()):
        torch.testing.assert_close(a.grad, b.grad, msg=name)


def test_init_from_scratch_follows_mmdetection():
    torch.manual_seed(0)
    net = SwinTransformer(embed_dims=32, depths=(2,), num_heads=(2,), strides=(4,),
                          out_indices=(0,), use_abs_pos_embed=True)
    net.init_weights()
    qkv = net.stages[0].blocks[0].attn.w_msa.qkv
    # mmcv's trunc_normal_init(std=0.02) truncates at +-2 (absolute): practically a normal
    assert 0.015 < float(qkv.weight.detach().std()) < 0.025
    assert bool((qkv.bias == 0).all())
    assert bool((net.norm0.weight == 1).all())
    table = net.stages[0].blocks[0].attn.w_msa.relative_position_bias_table
    assert bool((table == 0).all())  # MMDetection's SwinTransformer.init_weights skips it
    assert float(net.absolute_pos_embed.detach().std()) > 0.01


def test_pretrained_arguments():
    with pytest.warns(DeprecationWarning, match="init_cfg"):
        net = SwinTransformer(**TINY, pretrained="a.pth")
    assert net.init_cfg == dict(type="Pretrained", checkpoint="a.pth")
    with pytest.raises(ValueError, match="at the same time"):
        SwinTransformer(**TINY, pretrained="a.pth",
                        init_cfg=dict(type="Pretrained", checkpoint="b.pth"))
    with pytest.raises(ValueError, match="Pretrained"):
        SwinTransformer(**TINY, init_cfg=dict(type="Kaiming", layer="Conv2d"))
    with pytest.raises(ValueError, match="patch_size"):
        SwinTransformer(**dict(TINY, strides=(2, 2)))
    with pytest.raises(FileNotFoundError, match="missing.pth"):
        SwinTransformer(**TINY, init_cfg=dict(type="Pretrained",
                                              checkpoint="/nonexistent/missing.pth")).init_weights()


def test_absolute_pos_embed_is_resized_to_the_input_grid():
    net = SwinTransformer(**TINY, use_abs_pos_embed=True, pretrain_img_size=16).eval()
    nn.init.normal_(net.absolute_pos_embed)
    outs = net(torch.randn(1, 3, 24, 20))  # 6 x 5 tokens vs a 4 x 4 embedding
    assert outs[0].shape == (1, 8, 6, 5)
