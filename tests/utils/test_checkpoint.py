"""Checkpoint names -> files (never downloading) and loading with a clear mismatch report."""

import logging
import os
from collections import OrderedDict

import numpy as np
import pytest
import torch
import torchvision
from torch import nn

from detbox.utils.checkpoint import (
    OPEN_MMLAB_URLS,
    UnknownCheckpointError,
    _summarize_keys,
    hub_checkpoint_dir,
    load_checkpoint,
    load_checkpoint_with_prefix,
    load_state_dict,
    open_mmlab_url,
    resolve_checkpoint_path,
    torchvision_url,
)


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """A private torch hub cache under TORCH_HOME=tmp_path; returns its checkpoints folder."""
    monkeypatch.setattr(torch.hub, "_hub_dir", None)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    folder = tmp_path / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    assert hub_checkpoint_dir() == str(folder)
    return folder


class Tiny(nn.Module):
    def __init__(self, out=3):
        super().__init__()
        self.conv = nn.Conv2d(2, out, 1)
        self.bn = nn.BatchNorm2d(out)


def test_torchvision_names():
    v1 = torchvision.models.ResNet50_Weights.IMAGENET1K_V1.url
    assert torchvision_url("resnet50") == v1
    assert torchvision_url("ResNet50_Weights.IMAGENET1K_V1") == v1
    assert torchvision_url("resnet50.imagenet1k_v2") == \
        torchvision.models.ResNet50_Weights.IMAGENET1K_V2.url
    assert torchvision_url("resnet101").endswith("/resnet101-63fe2227.pth")
    with pytest.raises(UnknownCheckpointError, match="no model 'resnet05'.*resnet50"):
        torchvision_url("resnet05")
    with pytest.raises(UnknownCheckpointError, match="no 'imagenet1k_v9' weights"):
        torchvision_url("resnet50.imagenet1k_v9")


def test_open_mmlab_names():
    assert os.path.basename(open_mmlab_url("detectron2/resnet50_caffe")) == \
        "resnet50_msra-5891d200.pth"
    assert os.path.basename(open_mmlab_url("resnext101_64x4d")) == "resnext101_64x4d-ee2c6f71.pth"
    with pytest.warns(DeprecationWarning, match="detectron/resnet50_caffe"):
        assert open_mmlab_url("resnet50_caffe").endswith("/resnet50_caffe-788b5fa3.pth")
    with pytest.warns(DeprecationWarning):
        assert open_mmlab_url("resnet101_caffe").endswith("/resnet101_caffe-3ad79236.pth")
    with pytest.raises(UnknownCheckpointError, match="did you mean .*resnext101_32x4d"):
        open_mmlab_url("resnext101_32x4")
    assert all(url.startswith("https://download.openmmlab.com/")
               for url in OPEN_MMLAB_URLS.values())


def test_missing_file_says_what_to_put_where(hub):
    expected = str(hub / "resnet50-0676ba61.pth")
    with pytest.raises(FileNotFoundError) as err:
        resolve_checkpoint_path("torchvision://resnet50")
    text = str(err.value)
    assert expected in text and "https://download.pytorch.org/models/resnet50-0676ba61.pth" in text
    with pytest.raises(FileNotFoundError, match="resnext101_32x4d-a5af3160.pth"):
        resolve_checkpoint_path("open-mmlab://resnext101_32x4d")
    url = "https://download.openmmlab.com/mmdetection/v2.0/x/model_2020-abc.pth?raw=1"
    with pytest.raises(FileNotFoundError, match=str(hub / "model_2020-abc.pth")):
        resolve_checkpoint_path(url)
    with pytest.raises(FileNotFoundError, match="not found: .*nope.pth"):
        resolve_checkpoint_path("nope.pth")
    with pytest.raises(ValueError, match="unsupported scheme"):
        resolve_checkpoint_path("s3://bucket/x.pth")


def test_cached_files_resolve(hub, tmp_path):
    for name in ("resnet50-0676ba61.pth", "resnet50_msra-5891d200.pth", "model_2020-abc.pth"):
        (hub / name).write_bytes(b"")
    assert resolve_checkpoint_path("torchvision://resnet50") == str(hub / "resnet50-0676ba61.pth")
    assert resolve_checkpoint_path("openmmlab://detectron2/resnet50_caffe") == \
        str(hub / "resnet50_msra-5891d200.pth")
    assert resolve_checkpoint_path("http://host/a/model_2020-abc.pth") == \
        str(hub / "model_2020-abc.pth")
    with pytest.warns(DeprecationWarning, match="modelzoo"):
        assert resolve_checkpoint_path("modelzoo://resnet50").endswith("resnet50-0676ba61.pth")
    local = tmp_path / "local.pth"
    local.write_bytes(b"")
    assert resolve_checkpoint_path(str(local)) == str(local)


def test_set_dir_moves_the_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "_hub_dir", None)
    torch.hub.set_dir(str(tmp_path / "elsewhere"))
    with pytest.raises(FileNotFoundError, match=str(tmp_path / "elsewhere" / "checkpoints")):
        resolve_checkpoint_path("torchvision://resnet18")


def test_load_wrapped_bare_and_ddp_prefixed(tmp_path):
    src = Tiny()
    wrapped, bare, ddp = (tmp_path / n for n in ("w.pth", "b.pth", "d.pth"))
    torch.save({"meta": {"epoch": 3}, "state_dict": src.state_dict()}, wrapped)
    torch.save(src.state_dict(), bare)
    torch.save({"state_dict": {f"module.{k}": v for k, v in src.state_dict().items()}}, ddp)
    for path in (wrapped, bare, ddp):
        dst = Tiny()
        out = load_checkpoint(dst, str(path), strict=True)
        torch.testing.assert_close(dst.conv.weight, src.conv.weight)
    assert out["state_dict"].keys() == {f"module.{k}" for k in src.state_dict()}
    assert load_checkpoint(Tiny(), str(wrapped))["meta"] == {"epoch": 3}
    dst = Tiny()
    load_checkpoint(dst, str(ddp), revise_keys=[(r"^module\.", ""), (r"^conv\.", "bn.")])
    assert dst.bn.weight.shape == (3,) and not torch.equal(dst.conv.weight, src.conv.weight)


def test_checkpoint_with_numpy_meta_loads(tmp_path):
    path = tmp_path / "np.pth"
    torch.save({"meta": {"best": np.float64(0.5)}, "state_dict": Tiny().state_dict()}, path)
    assert load_checkpoint(Tiny(), str(path))["meta"]["best"] == 0.5


def test_mismatch_report_strict_and_not(tmp_path, caplog):
    src = Tiny(out=4).state_dict()
    src["extra.weight"] = torch.zeros(1)
    del src["bn.bias"]
    del src["bn.num_batches_tracked"]  # not reported as missing (mmcv rule)
    path = tmp_path / "m.pth"
    torch.save(src, path)
    with pytest.raises(RuntimeError) as err:
        load_checkpoint(Tiny(), str(path), strict=True)
    text = str(err.value)
    assert "unexpected keys in source state_dict (1): extra.weight" in text
    assert "missing keys in source state_dict (1): bn.bias" in text
    assert "conv.weight (4, 2, 1, 1) in file vs (3, 2, 1, 1) in model" in text
    assert "num_batches_tracked" not in text and str(path) in text
    dst = Tiny()
    before = dst.conv.weight.clone()
    with caplog.at_level(logging.WARNING):
        load_checkpoint(dst, str(path))
    assert "size mismatch, not loaded (5)" in caplog.text
    torch.testing.assert_close(dst.conv.weight, before)  # mismatched: left as it was
    report = load_state_dict(Tiny(), src)
    assert report.unexpected_keys == ["extra.weight"] and report.missing_keys == ["bn.bias"]
    assert [k for k, _, _ in report.mismatched] == [
        "conv.weight", "conv.bias", "bn.weight", "bn.running_mean", "bn.running_var"]


def test_load_state_dict_unwraps_data_parallel():
    src = Tiny()
    dst = nn.DataParallel(Tiny())
    report = load_state_dict(dst, src.state_dict(), strict=True)
    assert report.missing_keys == [] and report.mismatched == []
    torch.testing.assert_close(dst.module.conv.weight, src.conv.weight)


def test_not_a_dict_and_prefix_errors(tmp_path):
    path = tmp_path / "list.pth"
    torch.save([1, 2], path)
    with pytest.raises(RuntimeError, match="No state_dict found"):
        load_checkpoint(Tiny(), str(path))
    full = tmp_path / "full.pth"
    torch.save({"state_dict": OrderedDict(
        [("backbone.conv.weight", torch.ones(1)), ("neck.w", torch.zeros(1))])}, full)
    assert list(load_checkpoint_with_prefix("backbone", str(full))) == ["conv.weight"]
    with pytest.raises(KeyError, match="head. is not in the pretrained model.*backbone., neck."):
        load_checkpoint_with_prefix("head.", str(full))


def test_summarize_keys_groups_modules():
    keys = ["a.conv.weight", "a.conv.bias", "b.weight"]
    assert _summarize_keys(keys) == "a.conv.{weight,bias}, b.weight"
    many = [f"m{i}.weight" for i in range(15)]
    assert _summarize_keys(many, limit=12).endswith("m11.weight, ... and 3 more modules")
