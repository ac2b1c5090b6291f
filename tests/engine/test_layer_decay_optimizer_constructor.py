"""LearningRateDecayOptimizerConstructor (ConvNeXt layer / stage decay) and the Swin configs'
``custom_keys``: the same param groups (order, members, lr, weight decay) as real MMDetection
2.28.2 / mmcv 1.7.2, recorded in tests/data/mmdet_reference_pvt/optimizer_groups.json."""

import importlib.util
import json
import logging

import pytest
import torch

from detbox.engine import build_optimizer
from detbox.engine.layer_decay_optimizer_constructor import get_layer_id_for_convnext
from detbox.models.backbones import ConvNeXt
from tests.conftest import DATA

REF = DATA / "mmdet_reference_pvt"
_spec = importlib.util.spec_from_file_location("optimizer_toys", REF / "optimizer_toys.py")
TOYS = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(TOYS)
EXPECTED = json.loads((REF / "optimizer_groups.json").read_text())


def _assert_same_groups(got, expected):
    assert [g["names"] for g in got] == [g["names"] for g in expected]
    for ours, theirs in zip(got, expected):
        assert ours["lr"] == pytest.approx(theirs["lr"], rel=1e-12), ours["names"]
        assert ours["weight_decay"] == pytest.approx(theirs["weight_decay"], rel=1e-12), \
            ours["names"]


@pytest.mark.parametrize("decay_type", list(TOYS.LAYER_DECAY))
def test_layer_decay_groups_equal_mmdetection(decay_type, caplog):
    model = TOYS.ToyDetector(ConvNeXt(**TOYS.CONVNEXT))
    cfg = dict(TOYS.ADAMW, constructor="LearningRateDecayOptimizerConstructor",
               paramwise_cfg=TOYS.LAYER_DECAY[decay_type])
    with caplog.at_level(logging.INFO, logger="detbox"):
        opt = build_optimizer(model, cfg)
    assert isinstance(opt, torch.optim.AdamW)
    expected = EXPECTED[f"layer_decay/{decay_type}"]
    got = TOYS.named_groups(opt, model)
    _assert_same_groups(got, expected)
    for raw, theirs in zip(opt.param_groups, expected):
        assert raw["group_name"] == theirs["group_name"]
        assert raw["lr_scale"] == pytest.approx(theirs["lr_scale"], rel=1e-12)
    # frozen stage 0 is left out, as MMDetection does
    assert not any(n.startswith("backbone.stages.0.") for g in got for n in g["names"])
    assert "Param groups = " in caplog.text


@pytest.mark.parametrize("name", list(TOYS.PARAMWISE))
def test_swin_custom_keys_groups_equal_mmcv(name):
    model = TOYS.SwinLike()
    opt = build_optimizer(model, dict(TOYS.ADAMW, paramwise_cfg=TOYS.PARAMWISE[name]))
    _assert_same_groups(TOYS.named_groups(opt, model), EXPECTED[f"default/{name}"])


def test_errors_name_the_problem():
    model = TOYS.ToyDetector(ConvNeXt(**TOYS.CONVNEXT))
    cfg = dict(TOYS.ADAMW, constructor="LearningRateDecayOptimizerConstructor")
    with pytest.raises(KeyError, match="num_layers"):
        build_optimizer(model, dict(cfg, paramwise_cfg=dict(decay_rate=0.7)))
    with pytest.raises(ValueError, match="decay_type"):
        build_optimizer(model, dict(cfg, paramwise_cfg=dict(decay_rate=0.7, num_layers=6,
                                                            decay_type="block_wise")))
    with pytest.raises(NotImplementedError, match="ConvNeXt"):
        build_optimizer(TOYS.SwinLike(), dict(cfg, paramwise_cfg=dict(decay_rate=0.7,
                                                                      num_layers=6)))
    assert get_layer_id_for_convnext("backbone.downsample_layers.3.1.weight", 12) == 12
