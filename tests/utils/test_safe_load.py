"""Checkpoints load with weights_only=True and an allow-list; other objects are refused."""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision
from torch import nn

from detbox.engine.checkpoint import plain_data, save_checkpoint
from detbox.utils.checkpoint import load_checkpoint, load_checkpoint_file
from detbox.utils.safe_load import (
    CheckpointError,
    UnsafeCheckpointError,
    allowed_globals,
    safe_torch_load,
    trusted_checkpoints,
)
from tests.conftest import DATA
from tests.utils.checkpoint_payloads import Payload, save_malicious

V2_FILES = [DATA / "checkpoints" / "mmdet_v2_style_zip.pth",
            DATA / "checkpoints" / "mmdet_v2_style_legacy.pth"]


@pytest.fixture(autouse=True)
def _untrusted(monkeypatch):
    monkeypatch.delenv("DETBOX_TRUST_CHECKPOINTS", raising=False)


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_a_payload_is_refused_and_does_not_run(tmp_path, legacy):
    marker = tmp_path / "marker"
    path = tmp_path / "evil.pth"
    torch.save({"meta": {"x": Payload(marker)}, "state_dict": {}}, path,
               _use_new_zipfile_serialization=not legacy)
    with pytest.raises(UnsafeCheckpointError) as err:
        load_checkpoint_file(str(path))
    text = str(err.value)
    assert str(path) in text and "exec" in text
    for opt_in in ("--trust-checkpoint", "trust_checkpoint=True", "DETBOX_TRUST_CHECKPOINTS=1"):
        assert opt_in in text
    assert not marker.exists()


def test_the_three_opt_ins_load_it(tmp_path, monkeypatch):
    path = save_malicious(tmp_path / "evil.pth", tmp_path / "m1")
    load_checkpoint_file(str(path), trust=True)
    assert (tmp_path / "m1").read_text() == "the payload ran"
    path = save_malicious(tmp_path / "evil2.pth", tmp_path / "m2")
    with trusted_checkpoints():
        load_checkpoint_file(str(path))
    assert (tmp_path / "m2").exists()
    path = save_malicious(tmp_path / "evil3.pth", tmp_path / "m3")
    monkeypatch.setenv("DETBOX_TRUST_CHECKPOINTS", "1")
    load_checkpoint_file(str(path))
    assert (tmp_path / "m3").exists()
    monkeypatch.setenv("DETBOX_TRUST_CHECKPOINTS", "0")
    with pytest.raises(UnsafeCheckpointError):
        load_checkpoint_file(str(path), trust=None)


@pytest.mark.parametrize("path", V2_FILES, ids=["zip", "legacy"])
def test_mmdetection_v2_files_written_with_numpy_1_load(path):
    """Made in the side venv (torch 2.0, numpy 1.26): numpy.core.* names, legacy format."""
    ckpt = safe_torch_load(path)
    meta = ckpt["meta"]
    assert meta["mmdet_version"] == "2.28.2" and meta["CLASSES"] == ("person", "bicycle", "car")
    assert meta["epoch"] == 12 and "model = dict" in meta["config"]
    assert isinstance(meta["hook_msgs"]["best_score"], np.float64)
    assert meta["hook_msgs"]["best_score"] == pytest.approx(0.374)
    assert meta["hook_msgs"]["scores"].dtype == np.float32
    assert ckpt["optimizer"]["param_groups"][0]["momentum"] == 0.9
    assert ckpt["state_dict"]["backbone.conv1.weight"].shape == (4, 3, 3, 3)


def test_a_hand_built_v2_checkpoint_loads_into_a_model(tmp_path):
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
    meta = dict(mmdet_version="2.28.2", mmcv_version="1.7.2", CLASSES=("a", "b"),
                config="model = dict(type='FasterRCNN')\n", epoch=np.int64(12), iter=100,
                time="Thu Jan 30 03:15:49 2020",
                hook_msgs=dict(best_score=np.float64(0.5), last_ckpt="x/epoch_12.pth",
                               scores=np.arange(3, dtype=np.float32)))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.randn(1, 3, 5, 5)).sum().backward()
    opt.step()
    path = tmp_path / "v2.pth"
    torch.save(dict(meta=meta, state_dict=OrderedDict(model.state_dict()),
                    optimizer=opt.state_dict()), path)
    fresh = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
    out = load_checkpoint(fresh, str(path), strict=True)
    torch.testing.assert_close(fresh[0].weight, model[0].weight)
    assert out["meta"]["hook_msgs"]["best_score"] == 0.5


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_a_torchvision_weight_file_loads(tmp_path, legacy):
    net = torchvision.models.resnet18()
    path = tmp_path / "resnet18-f37072fd.pth"
    torch.save(net.state_dict(), path, _use_new_zipfile_serialization=not legacy)
    state = safe_torch_load(path)
    assert isinstance(state, OrderedDict) and state["fc.weight"].shape == (1000, 512)


def test_detbox_writes_only_allowed_types(tmp_path, caplog):
    model = nn.Sequential(nn.Conv2d(3, 4, 3))
    model.CLASSES = ("a", "b")
    opt = torch.optim.AdamW(model.parameters())
    model(torch.randn(1, 3, 5, 5)).sum().backward()
    opt.step()
    meta = dict(epoch=1, iter=3, torch=torch.__version__, seed=np.int64(3),
                hook_msgs=dict(best_score=np.float64(0.25), arr=np.zeros(2)),
                odd=object(), shapes=torch.Size([2, 3]))
    path = tmp_path / "epoch_1.pth"
    save_checkpoint(model, str(path), optimizer=opt, meta=meta)
    allowed = {f"{g[0].__module__}.{g[0].__qualname__}" if isinstance(g, tuple) else
               f"{g.__module__}.{g.__qualname__}" for g in allowed_globals()}
    allowed |= {g[1] for g in allowed_globals() if isinstance(g, tuple)}
    names = torch.serialization.get_unsafe_globals_in_checkpoint(str(path))
    assert set(names) <= allowed, names
    ckpt = safe_torch_load(path)
    assert ckpt["meta"]["torch"] == torch.__version__ and type(ckpt["meta"]["torch"]) is str
    assert ckpt["meta"]["odd"].startswith("<object object")
    assert "meta.odd: a object is not plain data" in caplog.text
    assert ckpt["meta"]["CLASSES"] == ("a", "b")
    assert set(ckpt["optimizer"]["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}


def test_plain_data_keeps_containers():
    value = OrderedDict(a=[1, (2, "x")], b={3}, c=np.float32(1))
    assert plain_data(value) == value and isinstance(plain_data(value), OrderedDict)


def test_not_a_checkpoint_is_a_read_error_without_the_trust_hint(tmp_path):
    path = tmp_path / "fake.pth"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="not a torch checkpoint file") as err:
        safe_torch_load(path)
    assert not isinstance(err.value, UnsafeCheckpointError)
    assert "--trust-checkpoint" not in str(err.value)
    truncated = tmp_path / "cut.pth"
    torch.save({"w": torch.zeros(1000)}, truncated)
    truncated.write_bytes(truncated.read_bytes()[:500])
    with pytest.raises(CheckpointError, match="could not read checkpoint"):
        safe_torch_load(truncated)


def test_no_key_of_the_model_is_an_error(tmp_path):
    path = tmp_path / "other.pth"
    torch.save({"state_dict": {"head.fc.weight": torch.zeros(2, 2)}}, path)
    with pytest.raises(CheckpointError, match="a checkpoint of another model"):
        load_checkpoint(nn.Sequential(nn.Conv2d(3, 4, 3)), str(path))
    assert os.path.exists(path)


def _calls(text: str, name: str) -> list[str]:
    """The argument texts of every ``name(...)`` call in ``text``."""
    out, start = [], text.find(name)
    while start >= 0:
        depth, i = 0, start + len(name) - 1
        for i in range(start + len(name) - 1, len(text)):
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            if depth == 0:
                break
        out.append(text[start:i + 1])
        start = text.find(name, i)
    return out


def test_no_checkpoint_read_can_run_code():
    """Every ``torch.load`` in the package, tools and demo is ``safe_torch_load``'s, or a
    weights-only one; nothing loads with ``weights_only=False``."""
    repo = Path(__file__).resolve().parents[2]
    offenders = []
    for folder in ("detbox", "tools", "demo"):
        for path in (repo / folder).rglob("*.py"):
            if path.name == "safe_load.py":
                continue
            for call in _calls(path.read_text(), "torch.load("):
                if "weights_only=True" not in call:
                    offenders.append(f"{path.relative_to(repo)}: {call}")
    assert offenders == []
