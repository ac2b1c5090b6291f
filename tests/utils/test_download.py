"""Checkpoint names download into the hub cache: progress, atomic rename, hash, offline switch.

A local server on 127.0.0.1 plays download.pytorch.org / download.openmmlab.com; the suite
itself runs with DETBOX_OFFLINE=1 (tests/conftest.py), so these tests unset it.
"""

from __future__ import annotations

import hashlib
import io

import pytest
import torch
from torch import nn

from detbox.apis.runtime import read_checkpoint
from detbox.utils.checkpoint import hub_checkpoint_dir, load_checkpoint, resolve_checkpoint_path
from detbox.utils.download import DownloadError
from tests.utils.weights_server import WeightsServer


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)


def checkpoint_bytes(seed: int = 0) -> tuple[bytes, dict]:
    torch.manual_seed(seed)
    state = Net().state_dict()
    buffer = io.BytesIO()
    torch.save({"meta": {"epoch": 1}, "state_dict": state}, buffer)
    return buffer.getvalue(), state


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """An empty hub cache under TORCH_HOME=tmp_path/torch; downloads allowed."""
    monkeypatch.setattr(torch.hub, "_hub_dir", None)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv("DETBOX_OFFLINE", raising=False)
    monkeypatch.delenv("DETBOX_WEIGHTS_MIRROR", raising=False)
    monkeypatch.delenv("DETBOX_CHECK_HASH", raising=False)
    monkeypatch.setenv("DETBOX_DOWNLOAD_TIMEOUT", "20")
    return tmp_path / "torch" / "hub" / "checkpoints"


def test_first_use_downloads_second_use_does_not(hub):
    body, state = checkpoint_bytes()
    name = f"net_20260101-{hashlib.sha256(body).hexdigest()[:8]}.pth"
    with WeightsServer({f"/zoo/{name}": body}) as server:
        url = f"{server.url}/zoo/{name}"
        model = Net()
        load_checkpoint(model, url, strict=True)
        torch.testing.assert_close(model.conv.weight, state["conv.weight"])
        assert sorted(p.name for p in hub.iterdir()) == [name]  # no temporary file left
        assert hub_checkpoint_dir() == str(hub)
        assert server.requests == [f"/zoo/{name}"]
        assert resolve_checkpoint_path(url) == str(hub / name)
        load_checkpoint(Net(), url)
        assert read_checkpoint(url)["meta"] == {"epoch": 1}  # what tools/test.py reads
        assert len(server.requests) == 1  # cached: no second request


def test_a_wrong_hash_in_the_name_is_refused(hub):
    body, _ = checkpoint_bytes()
    with WeightsServer({"/zoo/net-deadbeef.pth": body}) as server:
        with pytest.raises(DownloadError) as err:
            resolve_checkpoint_path(f"{server.url}/zoo/net-deadbeef.pth")
    text = str(err.value)
    assert "does not match the hash in its name" in text and "deadbeef" in text
    assert hashlib.sha256(body).hexdigest() in text
    assert not hub.exists() or list(hub.iterdir()) == []


def test_a_dropped_connection_leaves_no_file(hub):
    body, _ = checkpoint_bytes()
    with WeightsServer({"/zoo/net.pth": body}, drop=("/zoo/net.pth",)) as server:
        url = f"{server.url}/zoo/net.pth"
        with pytest.raises(DownloadError) as err:
            resolve_checkpoint_path(url)
    text = str(err.value)
    assert url in text and str(hub / "net.pth") in text and "DETBOX_OFFLINE=1" in text
    assert list(hub.iterdir()) == []


def test_an_unreachable_server_is_one_clear_error(hub):
    with WeightsServer({}) as server:
        url = f"{server.url}/zoo/missing-0123abcd.pth"
        with pytest.raises(DownloadError, match="HTTP 404") as err:
            resolve_checkpoint_path(url)
        dead = server.url
    assert str(hub / "missing-0123abcd.pth") in str(err.value)
    with pytest.raises(DownloadError, match="could not download .*DETBOX_OFFLINE=1"):
        resolve_checkpoint_path(f"{dead}/zoo/x.pth")  # the server is gone: refused
    assert list(hub.iterdir()) == []


def test_offline_makes_no_request_and_says_where_to_put_the_file(hub, monkeypatch):
    body, _ = checkpoint_bytes()
    monkeypatch.setenv("DETBOX_OFFLINE", "1")
    with WeightsServer({"/zoo/net.pth": body}) as server:
        monkeypatch.setenv("DETBOX_WEIGHTS_MIRROR", server.url)
        with pytest.raises(FileNotFoundError) as err:
            resolve_checkpoint_path(f"{server.url}/zoo/net.pth")
        with pytest.raises(FileNotFoundError, match="resnet18-f37072fd.pth"):
            resolve_checkpoint_path("torchvision://resnet18")
        assert server.requests == []
    text = str(err.value)
    assert "DETBOX_OFFLINE=1" in text and str(hub / "net.pth") in text


def test_the_mirror_serves_torchvision_names(hub, monkeypatch):
    torch.manual_seed(0)
    tiny = {"conv1.weight": torch.randn(64, 3, 7, 7)}
    buffer = io.BytesIO()
    torch.save(tiny, buffer)
    path = "/download.pytorch.org/models/resnet18-f37072fd.pth"
    with WeightsServer({path: buffer.getvalue()}) as server:
        monkeypatch.setenv("DETBOX_WEIGHTS_MIRROR", server.url)
        with pytest.raises(DownloadError, match="does not match the hash"):
            resolve_checkpoint_path("torchvision://resnet18")  # random weights, not torchvision's
        monkeypatch.setenv("DETBOX_CHECK_HASH", "0")
        assert resolve_checkpoint_path("torchvision://resnet18") == str(
            hub / "resnet18-f37072fd.pth")
        assert server.requests == [path, path]
