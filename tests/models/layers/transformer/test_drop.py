"""DropPath / Dropout / build_dropout."""

import pytest
import torch

from detbox.models.layers.transformer import Dropout, DropPath, build_dropout, drop_path
from detbox.registry import UnknownTypeError


def test_drop_path_drops_whole_samples_and_rescales():
    torch.manual_seed(0)
    x = torch.ones(2000, 3, 2)
    out = drop_path(x, 0.25, training=True)
    per_sample = out.flatten(1)
    # each sample is either all zero or all 1 / keep_prob
    assert bool(((per_sample == 0).all(1) | (per_sample == 1 / 0.75).all(1)).all())
    kept = (per_sample[:, 0] > 0).float().mean().item()
    assert abs(kept - 0.75) < 0.04
    assert drop_path(x, 0.25, training=False) is x


def test_build_dropout_names():
    assert isinstance(build_dropout(dict(type="DropPath")), DropPath)
    layer = build_dropout(dict(type="Dropout", drop_prob=0.3))
    assert isinstance(layer, Dropout) and layer.p == 0.3
    assert build_dropout(dict(type="DropPath"), dict(drop_prob=0.2)).drop_prob == 0.2
    with pytest.raises(UnknownTypeError, match="DropPath"):
        build_dropout(dict(type="Droppath"))
