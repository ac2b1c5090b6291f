"""The shared backbone pieces: pretrained -> init_cfg, freezing, running stages."""

import pytest
import torch
from torch import nn

from detbox.models.backbones.stage_utils import freeze, pretrained_init_cfg, run_stages

DEFAULT = [dict(type="Kaiming", layer="Conv2d")]


def test_pretrained_becomes_a_pretrained_init_cfg_with_a_warning():
    with pytest.warns(UserWarning, match="pretrained is deprecated"):
        assert pretrained_init_cfg("w.pth", None, DEFAULT) == dict(type="Pretrained",
                                                                  checkpoint="w.pth")
    assert pretrained_init_cfg(None, None, DEFAULT) is DEFAULT
    mine = dict(type="Normal", std=0.1)
    assert pretrained_init_cfg(None, mine, DEFAULT) is mine
    with pytest.raises(AssertionError, match="cannot be specified at the same time"):
        pretrained_init_cfg("w.pth", mine, DEFAULT)
    with pytest.raises(TypeError, match="pretrained must be a str or None, got 3"):
        pretrained_init_cfg(3, None, DEFAULT)


def test_freeze_stops_gradients_and_sets_eval():
    a, b = nn.Sequential(nn.Conv2d(1, 1, 1), nn.BatchNorm2d(1)), nn.Conv2d(1, 1, 1)
    freeze([a])
    assert not a.training and not any(p.requires_grad for p in a.parameters())
    assert b.training and all(p.requires_grad for p in b.parameters())


def test_run_stages_returns_the_wanted_outputs_and_skips_the_rest():
    calls = []

    class Add(nn.Module):
        def __init__(self, k):
            super().__init__()
            self.k = k

        def forward(self, x):
            calls.append(self.k)
            return x + self.k

    outs = run_stages(torch.zeros(1), [Add(1), Add(2), Add(3), Add(4)], (0, 2))
    assert [o.item() for o in outs] == [1.0, 6.0]
    assert calls == [1, 2, 3]  # the fourth stage's output is unused, so it is not run
