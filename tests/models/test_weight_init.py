"""Initialisers and ``initialize``: layer matching, override, bias_prob, Pretrained (mmcv 1.x)."""

import math

import pytest
import torch
from torch import nn

from detbox.models.weight_init import (
    bias_init_with_prob,
    caffe2_xavier_init,
    constant_init,
    initialize,
    kaiming_init,
    normal_init,
    trunc_normal_init,
    uniform_init,
    xavier_init,
)
from detbox.registry import ConfigArgumentError, UnknownTypeError


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.feat = nn.Conv2d(4, 4, 3)
        self.cls = nn.Conv2d(4, 2, 1)
        self.norm = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4, 3)


class MyBN(nn.BatchNorm2d):
    pass


def test_functional_initialisers():
    torch.manual_seed(0)
    lin = nn.Linear(400, 300)
    constant_init(lin, 2.0, bias=3.0)
    assert lin.weight.unique().tolist() == [2.0] and lin.bias.unique().tolist() == [3.0]
    normal_init(lin, mean=1.0, std=0.5, bias=-1.0)
    assert lin.weight.mean().item() == pytest.approx(1.0, abs=0.01)
    assert lin.weight.std().item() == pytest.approx(0.5, rel=0.02)
    assert lin.bias.unique().tolist() == [-1.0]
    uniform_init(lin, a=2, b=3)
    assert 2 <= lin.weight.min() and lin.weight.max() <= 3
    trunc_normal_init(lin, std=1.0, a=-0.5, b=0.5)
    assert lin.weight.abs().max() <= 0.5
    xavier_init(lin, distribution="uniform")
    assert lin.weight.abs().max() <= math.sqrt(6 / (400 + 300))
    assert lin.weight.abs().max() > 0.9 * math.sqrt(6 / (400 + 300))
    kaiming_init(lin)  # fan_out, relu, normal
    assert lin.weight.std().item() == pytest.approx(math.sqrt(2 / 300), rel=0.02)
    caffe2_xavier_init(lin)  # kaiming uniform, a=1, fan_in: bound sqrt(3 / fan_in)
    assert lin.weight.abs().max() <= math.sqrt(3 / 400)
    with pytest.raises(ValueError, match="distribution"):
        xavier_init(lin, distribution="gaussian")
    constant_init(nn.ReLU(), 1.0)  # modules without weights are left alone


def test_bias_init_with_prob():
    assert bias_init_with_prob(0.5) == 0.0
    b = bias_init_with_prob(0.01)
    assert 1 / (1 + math.exp(-b)) == pytest.approx(0.01)


def test_layer_matches_class_and_direct_bases_only():
    net = nn.Sequential(nn.Conv2d(1, 1, 1), nn.BatchNorm2d(1), MyBN(1), nn.Linear(1, 1))
    initialize(net, dict(type="Constant", val=3, bias=4, layer=["_ConvNd", "_BatchNorm"]))
    assert net[0].weight.item() == 3 and net[0].bias.item() == 4
    assert net[1].weight.item() == 3  # BatchNorm2d's direct base is _BatchNorm
    assert net[2].weight.item() == 1  # MyBN's direct base is BatchNorm2d: not matched
    assert net[3].weight.item() != 3
    initialize(net, dict(type="Constant", val=5, layer="MyBN"))
    assert net[2].weight.item() == 5


def test_list_of_configs_and_bias_prob():
    head = Head()
    initialize(head, [dict(type="Constant", val=1, layer="Conv2d"),
                      dict(type="Normal", std=0.01, bias_prob=0.01, layer="Linear")])
    assert head.cls.weight.unique().tolist() == [1.0]
    assert head.fc.bias.tolist() == pytest.approx([bias_init_with_prob(0.01)] * 3)


def test_override_with_own_settings_and_with_outer_settings():
    head = Head()
    initialize(head, dict(type="Constant", val=1, bias=2, layer="Conv2d",
                          override=dict(type="Constant", name="cls", val=3, bias=4)))
    assert head.feat.weight.unique().tolist() == [1.0] and head.feat.bias.unique().tolist() == [2]
    assert head.cls.weight.unique().tolist() == [3.0] and head.cls.bias.unique().tolist() == [4]
    # An override of the norm applies to the whole module even though 'layer' is Conv2d.
    head = Head()
    initialize(head, dict(type="Constant", val=7, layer="Conv2d", override=dict(name="norm")))
    assert head.norm.weight.unique().tolist() == [7.0]
    assert head.norm.bias.unique().tolist() == [0.0]


def test_override_errors():
    head = Head()
    with pytest.raises(ValueError, match="name"):
        initialize(head, dict(type="Constant", val=1, override=dict(type="Constant", val=2)))
    with pytest.raises(ValueError, match="type"):
        initialize(head, dict(type="Constant", val=1, override=dict(name="cls", val=2)))
    with pytest.raises(RuntimeError, match="no attribute 'clss'"):
        initialize(head, dict(type="Constant", val=1, override=dict(name="clss")))


def test_config_errors_are_clear():
    with pytest.raises(TypeError, match="init_cfg must be a dict"):
        initialize(Head(), "Kaiming")
    with pytest.raises(UnknownTypeError, match="did you mean 'Kaiming'"):
        initialize(Head(), dict(type="Kaimin", layer="Conv2d"))
    with pytest.raises(ConfigArgumentError, match="'sdt'.*did you mean 'std'"):
        initialize(Head(), dict(type="Normal", sdt=0.01, layer="Conv2d"))
    with pytest.raises(TypeError, match="layer must be"):
        initialize(Head(), dict(type="Normal", layer=("Conv2d",)))


def test_shared_config_is_not_mutated():
    cfg = dict(type="Constant", val=0, override=dict(name="cls"))
    initialize(Head(), cfg)
    initialize(Head(), cfg)
    assert cfg == dict(type="Constant", val=0, override=dict(name="cls"))


def test_pretrained_with_prefix(tmp_path):
    src = Head()
    constant_init(src.cls, 9.0, bias=8.0)
    path = tmp_path / "det.pth"
    torch.save({"meta": {}, "state_dict": {f"roi_head.{k}": v
                                           for k, v in src.state_dict().items()}}, path)
    dst = Head()
    initialize(dst, dict(type="Pretrained", checkpoint=str(path), prefix="roi_head."))
    assert dst.cls.weight.unique().tolist() == [9.0] and dst.cls.bias.unique().tolist() == [8.0]
    torch.testing.assert_close(dst.feat.weight, src.feat.weight)
    with pytest.raises(KeyError, match="backbone. is not in the pretrained model"):
        initialize(dst, dict(type="Pretrained", checkpoint=str(path), prefix="backbone"))
