"""build_optimizer and DefaultOptimizerConstructor's paramwise_cfg (mmcv 1.7 semantics)."""

import pytest
import torch
from torch import nn

from detbox.engine import build_optimizer
from detbox.registry import OPTIMIZERS


class ParamModel(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3)
        self.bn = nn.BatchNorm2d(4)
        self.dwconv = nn.Conv2d(4, 4, 3, groups=4)
        self.sub = nn.Module()
        self.sub.fc = nn.Linear(4, 2)
        self.frozen = nn.Linear(2, 2, bias=False)
        self.frozen.weight.requires_grad_(False)


def groups(optimizer, model):
    names = {id(p): n for n, p in model.named_parameters()}
    return {names[id(g["params"][0])]: (g["lr"], g["weight_decay"])
            for g in optimizer.param_groups}


def assert_groups(got, expected):
    assert list(got) == list(expected)
    for name, value in expected.items():
        assert got[name] == pytest.approx(value), name


BASE = dict(type="SGD", lr=0.01, momentum=0.9, weight_decay=1e-4)


def test_torch_optimizers_are_registered_and_plain_build():
    assert {"SGD", "Adam", "AdamW", "RMSprop"} <= set(OPTIMIZERS.module_dict)
    model = ParamModel()
    opt = build_optimizer(model, BASE)
    assert isinstance(opt, torch.optim.SGD) and len(opt.param_groups) == 1
    assert opt.defaults["momentum"] == 0.9


def test_multipliers_by_layer_kind():
    model = ParamModel()
    cfg = dict(BASE, paramwise_cfg=dict(bias_lr_mult=2.0, bias_decay_mult=0.5,
                                        norm_decay_mult=0.0, dwconv_decay_mult=0.1))
    got = groups(build_optimizer(model, cfg), model)
    assert_groups(got, {
        "conv1.weight": (0.01, 1e-4), "conv1.bias": (0.02, 0.5e-4),
        "bn.weight": (0.01, 0.0), "bn.bias": (0.01, 0.0),
        "dwconv.weight": (0.01, 1e-5), "dwconv.bias": (0.02, 1e-5),
        "sub.fc.weight": (0.01, 1e-4), "sub.fc.bias": (0.02, 0.5e-4),
        "frozen.weight": (0.01, 1e-4)})


def test_custom_keys_longest_match_then_alphabetical():
    model = ParamModel()
    model.abba = nn.Linear(1, 1, bias=False)
    cfg = dict(BASE, paramwise_cfg=dict(bias_lr_mult=2.0, custom_keys={
        "sub": dict(lr_mult=0.1, decay_mult=0.9), "sub.fc.bias": dict(lr_mult=0.5),
        "conv": dict(lr_mult=3.0), "bb": dict(lr_mult=5.0), "ab": dict(lr_mult=7.0)}))
    got = groups(build_optimizer(model, cfg), model)
    assert got["conv1.weight"] == pytest.approx((0.03, 1e-4))
    assert got["conv1.bias"] == pytest.approx((0.03, 1e-4))  # custom key beats bias_lr_mult
    assert got["dwconv.weight"] == pytest.approx((0.03, 1e-4))
    assert got["bn.bias"] == pytest.approx((0.01, 1e-4))
    assert got["sub.fc.weight"] == pytest.approx((0.001, 0.9e-4))
    assert got["sub.fc.bias"] == pytest.approx((0.005, 1e-4))
    assert got["abba.weight"] == pytest.approx((0.07, 1e-4))


def test_dcn_offset_lr_mult():
    class DeformConv2d(nn.Module):  # matched by class name, like ours or torchvision's
        def __init__(self) -> None:
            super().__init__()
            self.weight = nn.Parameter(torch.zeros(2, 2, 1, 1))
            self.conv_offset = nn.Conv2d(2, 2, 1)

    model = nn.Module()
    model.dcn = DeformConv2d()
    cfg = dict(BASE, paramwise_cfg=dict(dcn_offset_lr_mult=0.1, bias_lr_mult=2.0,
                                        bias_decay_mult=0.0))
    got = groups(build_optimizer(model, cfg), model)
    assert_groups(got, {"dcn.weight": (0.01, 1e-4),
                                 "dcn.conv_offset.weight": (0.001, 1e-4),
                                 "dcn.conv_offset.bias": (0.001, 1e-4)})


def test_bypass_duplicate_and_errors():
    model = ParamModel()
    model.tied = nn.Linear(4, 2)
    model.tied.weight = model.sub.fc.weight
    cfg = dict(BASE, paramwise_cfg=dict(bias_lr_mult=2.0))
    with pytest.raises(ValueError, match="more than one parameter group"):
        build_optimizer(model, cfg)
    cfg["paramwise_cfg"]["bypass_duplicate"] = True
    opt = build_optimizer(model, cfg)
    assert sum(len(g["params"]) for g in opt.param_groups) == len(list(model.parameters()))
    with pytest.raises(ValueError, match="norm_decay_mult needs the optimizer's weight_decay"):
        build_optimizer(model, dict(type="SGD", lr=0.1, paramwise_cfg=dict(norm_decay_mult=0.)))
    with pytest.raises(KeyError, match="'SDG' is not in the OPTIMIZERS registry; did you mean"):
        build_optimizer(model, dict(type="SDG", lr=0.1))
