"""FPN: shapes for every extra-level mode, hand-computed top-down sums, key names, init."""

import math

import pytest
import torch
import torch.nn.functional as F

from detbox.models.necks import FPN
from detbox.registry import MODELS

IN_CHANNELS = [4, 8, 16, 32]


def _inputs(sizes=(32, 16, 8, 4)):
    torch.manual_seed(0)
    return [torch.randn(1, c, s, s) for c, s in zip(IN_CHANNELS, sizes)]


@pytest.mark.parametrize("mode", [False, True, "on_input", "on_lateral", "on_output"])
def test_five_outputs_for_each_extra_mode(mode):
    fpn = FPN(IN_CHANNELS, 6, num_outs=5, add_extra_convs=mode)
    outs = fpn(_inputs())
    assert [tuple(o.shape) for o in outs] == [(1, 6, s, s) for s in (32, 16, 8, 4, 2)]
    assert len(fpn.fpn_convs) == (4 if mode is False else 5)
    if mode in (True, "on_input"):
        assert fpn.add_extra_convs == "on_input"
        assert fpn.fpn_convs[4].conv.weight.shape == (6, 32, 3, 3)
    elif mode:
        assert fpn.fpn_convs[4].conv.weight.shape == (6, 6, 3, 3)


def test_extra_levels_by_pooling_and_by_convs():
    inputs = _inputs()
    pooled = FPN(IN_CHANNELS, 6, num_outs=6)
    outs = pooled(inputs)
    torch.testing.assert_close(outs[4], outs[3][..., ::2, ::2])
    torch.testing.assert_close(outs[5], outs[4][..., ::2, ::2])
    on_output = FPN(IN_CHANNELS, 6, num_outs=6, add_extra_convs="on_output",
                    relu_before_extra_convs=True)
    outs = on_output(inputs)
    torch.testing.assert_close(outs[4], on_output.fpn_convs[4](outs[3]))
    torch.testing.assert_close(outs[5], on_output.fpn_convs[5](F.relu(outs[4])))
    on_input = FPN(IN_CHANNELS, 6, num_outs=5, add_extra_convs="on_input")
    torch.testing.assert_close(on_input(inputs)[4], on_input.fpn_convs[4](inputs[3]))


def test_top_down_sum_by_hand():
    fpn = FPN([1, 1, 1], 1, num_outs=3)
    with torch.no_grad():
        for conv in fpn.lateral_convs:
            conv.conv.weight.fill_(1.0)
            conv.conv.bias.zero_()
        for conv in fpn.fpn_convs:  # identity 3x3 kernels
            conv.conv.weight.zero_()
            conv.conv.weight[0, 0, 1, 1] = 1.0
            conv.conv.bias.zero_()
    inputs = [torch.full((1, 1, 4, 4), 1.0), torch.full((1, 1, 2, 2), 10.0),
              torch.full((1, 1, 1, 1), 100.0)]
    outs = fpn(inputs)
    assert [o.unique().tolist() for o in outs] == [[111.0], [110.0], [100.0]]


def test_upsampling_to_odd_sizes_and_by_scale_factor():
    sizes = (15, 8, 4, 2)
    outs = FPN(IN_CHANNELS, 6, num_outs=5)(_inputs(sizes))
    assert [o.shape[-1] for o in outs] == [15, 8, 4, 2, 1]
    fpn = FPN(IN_CHANNELS, 6, num_outs=4, upsample_cfg=dict(scale_factor=2, mode="nearest"))
    assert [o.shape[-1] for o in fpn(_inputs())] == [32, 16, 8, 4]
    with pytest.raises(RuntimeError):  # a fixed factor cannot meet an odd size
        fpn(_inputs(sizes))


def test_start_and_end_levels():
    retina = FPN(IN_CHANNELS, 6, num_outs=5, start_level=1, add_extra_convs="on_input")
    assert len(retina.lateral_convs) == 3 and len(retina.fpn_convs) == 5
    assert [o.shape[-1] for o in retina(_inputs())] == [16, 8, 4, 2, 1]
    middle = FPN(IN_CHANNELS, 6, num_outs=2, start_level=1, end_level=2)
    assert middle.backbone_end_level == 3
    assert [o.shape[-1] for o in middle(_inputs())] == [16, 8]
    with pytest.raises(AssertionError, match="end_level - start_level"):
        FPN(IN_CHANNELS, 6, num_outs=3, start_level=1, end_level=2)
    with pytest.raises(AssertionError, match="num_outs=3 is fewer"):
        FPN(IN_CHANNELS, 6, num_outs=3)
    with pytest.raises(AssertionError, match="add_extra_convs must be one of"):
        FPN(IN_CHANNELS, 6, num_outs=5, add_extra_convs="on_top")
    with pytest.raises(AssertionError, match="got 3 input levels"):
        FPN(IN_CHANNELS, 6, num_outs=5)(_inputs()[:3])


def test_r50_fpn_key_names():
    fpn = MODELS.build(dict(type="FPN", in_channels=[256, 512, 1024, 2048], out_channels=256,
                            num_outs=5))
    expected = [f"{kind}.{i}.conv.{p}" for kind in ("lateral_convs", "fpn_convs")
                for i in range(4) for p in ("weight", "bias")]
    assert list(fpn.state_dict()) == expected
    assert fpn.lateral_convs[3].conv.weight.shape == (256, 2048, 1, 1)
    assert fpn.fpn_convs[0].conv.weight.shape == (256, 256, 3, 3)
    retina = FPN([256, 512, 1024, 2048], 256, num_outs=5, start_level=1,
                 add_extra_convs="on_input")
    sd = retina.state_dict()
    assert "fpn_convs.4.conv.weight" in sd and "lateral_convs.3.conv.weight" not in sd
    assert sd["fpn_convs.3.conv.weight"].shape == (256, 2048, 3, 3)


def test_norm_and_activation_configs():
    fpn = FPN(IN_CHANNELS, 8, num_outs=4, norm_cfg=dict(type="GN", num_groups=2),
              no_norm_on_lateral=True, act_cfg=dict(type="ReLU"))
    sd = fpn.state_dict()
    assert "lateral_convs.0.conv.bias" in sd and "lateral_convs.0.gn.weight" not in sd
    assert "fpn_convs.0.gn.weight" in sd and "fpn_convs.0.conv.bias" not in sd
    assert not fpn.fpn_convs[0].activate.inplace
    assert all(o.min() >= 0 for o in fpn(_inputs()))


def test_xavier_uniform_init():
    torch.manual_seed(0)
    fpn = FPN(IN_CHANNELS, 64, num_outs=5)
    fpn.init_weights()
    conv = fpn.fpn_convs[0].conv
    bound = math.sqrt(6 / (64 * 9 + 64 * 9))
    assert conv.weight.abs().max() <= bound and conv.weight.abs().max() > 0.95 * bound
    assert conv.bias.abs().sum() == 0
